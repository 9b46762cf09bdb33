import { z } from "zod";

/** Shared input pieces. Ids are opaque strings of a safe alphabet. */
export const zId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "invalid id");
export const zName = z.string().trim().min(1).max(200);
export const zSlug = z.string().min(1).max(64).regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "lowercase letters, digits and dashes");
export const zLabel = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, "invalid label");
export const zLabels = z.array(zLabel).max(32);
/** A git branch name (checked again by git before use). */
export const zBranch = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._\/-]+(?<![./])$/, "invalid branch name");
export const zEngine = z
  .enum(["anthropic", "claude-code", "claude_code", "command"])
  .transform((e) => (e === "claude-code" ? "claude_code" : e));
export const zRole = z.enum(["admin", "member", "viewer", "runner"]);
export const zColumn = z.enum(["backlog", "todo", "in_progress", "in_review", "done"]);
export const zRunStatus = z.enum(["queued", "claimed", "running", "succeeded", "failed", "cancelled", "merged", "aborted"]);
export const zLeaseToken = z.string().min(1).max(128);
export const zShellCommand = z.string().min(1).max(10_000);
export const zApprovalPolicy = z.enum(["none", "commands", "writes"]);
/** How long an approval request waits for a person: 1 s to a day. */
export const zApprovalTimeoutMs = z.number().int().min(1_000).max(24 * 3600 * 1000);
