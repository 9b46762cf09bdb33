import { z } from "zod";

/** Shared input pieces. Ids are opaque strings of a safe alphabet. */
export const zId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "invalid id");
export const zName = z.string().trim().min(1).max(200);
export const zSlug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "lowercase letters, digits and dashes");
export const zLabel = z
  .string()
  .min(1, "a label is 1–64 letters, digits and . _ : - (no spaces)")
  .max(64, "a label is 1–64 letters, digits and . _ : - (no spaces)")
  .regex(/^[A-Za-z0-9_.:-]+$/, "a label is 1–64 letters, digits and . _ : - (no spaces)");
export const zLabels = z.array(zLabel).max(32);
/** A git branch name (checked again by git before use). */
export const zBranch = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._/-]+(?<![./])$/, "invalid branch name");
export const zEngine = z.enum(["anthropic", "claude-code", "claude_code", "command", "acp"]).transform((e) => (e === "claude-code" ? "claude_code" : e));
export const zRole = z.enum(["admin", "member", "viewer", "runner"]);
export const zColumn = z.enum(["backlog", "todo", "in_progress", "in_review", "done"]);
export const zRunStatus = z.enum(["queued", "claimed", "running", "succeeded", "failed", "cancelled", "merged", "aborted"]);
export const zLeaseToken = z.string().min(1).max(128);
export const zShellCommand = z.string().min(1).max(10_000);
export const zApprovalPolicy = z.enum(["none", "commands", "writes"]);
/** How long an approval request waits for a person: 1 s to a day. */
export const zApprovalTimeoutMs = z
  .number()
  .int()
  .min(1_000)
  .max(24 * 3600 * 1000);

/**
 * Bounds that match the columns numbers are stored in: `Int` columns are 32-bit on
 * PostgreSQL, `BigInt` columns 64-bit (and JavaScript numbers are exact to 2^53).
 */
export const INT32_MAX = 2 ** 31 - 1;
export const zInt32 = z.number().int().min(0).max(INT32_MAX);
export const zInt64 = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Dates both databases store: PostgreSQL's timestamp ends at year 294276, JavaScript's Date sooner. */
export const zStoredDate = z.coerce.date().min(new Date("1970-01-01T00:00:00Z")).max(new Date("9999-12-31T23:59:59Z"));
