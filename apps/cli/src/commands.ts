import { z } from "zod";
import { createAgentboardClient, errorReason, isAgentboardError, type AgentboardClient } from "@agentboard/client";
import { appendJournal } from "./journal.js";
import { failure, success, type Outcome, type Warning } from "./output.js";

const zId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "must be an id of letters, digits, _ and -");
const zName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:@-]+$/, "letters, digits and _.:@-");

export const ZConnection = z.object({
  server: z.url({ protocol: /^https?$/ }),
  token: z.string().min(8, "a token is required (--token or AGENTBOARD_TOKEN)"),
});

export const ZClaimArgs = ZConnection.extend({
  workspace: zId,
  runId: zId.optional(),
  claimedBy: zName.optional(),
  labels: z.array(z.string().min(1).max(64)).max(32).default([]),
  waitMs: z.coerce.number().int().min(0).max(25_000).default(0),
  journal: z.string().min(1).optional(),
});

export const ZRunArgs = ZConnection.extend({ runId: zId, reason: z.string().max(1000).optional() });
export const ZListArgs = ZConnection.extend({ workspace: zId, status: z.string().optional(), limit: z.coerce.number().int().min(1).max(200).default(50) });

function connect(args: z.infer<typeof ZConnection>): AgentboardClient {
  return createAgentboardClient({ url: args.server, token: args.token });
}

/** Maps an API failure to the CLI's error shape: the API's machine-readable reason is the code. */
export function fromError(err: unknown): Outcome {
  if (isAgentboardError(err)) {
    const data = err.data as { reason?: string; fieldErrors?: Record<string, string[]> | null } | undefined;
    const field = data?.fieldErrors ? Object.keys(data.fieldErrors)[0] : undefined;
    return failure(errorReason(err) ?? "ERROR", err.message, field);
  }
  return failure("UNREACHABLE", err instanceof Error ? err.message : String(err));
}

/**
 * `agentboard claim`: claims one run (the next eligible one, or `--run-id`) for a named
 * claimant. Claiming a run again with the same claimant is idempotent; another claimant gets
 * ALREADY_CLAIMED. The journal entry is written after the claim committed.
 */
export async function claim(args: z.infer<typeof ZClaimArgs>): Promise<Outcome> {
  const api = connect(args);
  try {
    const runnerId = args.claimedBy
      ? (await api.runner.register.mutate({ workspaceId: args.workspace, name: args.claimedBy, labels: args.labels })).id
      : undefined;
    const claimed = await api.run.claim.mutate({
      workspaceId: args.workspace,
      runId: args.runId,
      runnerId,
      labels: args.labels,
      waitMs: args.runId ? undefined : args.waitMs,
    });
    if (!claimed) return success(null);
    const warnings: Warning[] = [];
    if (args.journal) {
      try {
        await appendJournal(args.journal, {
          type: "run-claimed",
          runId: claimed.run.id,
          workspaceId: args.workspace,
          claimedBy: args.claimedBy ?? "token",
          attempt: claimed.run.attempt,
          at: new Date().toISOString(),
        });
      } catch (err) {
        warnings.push({ code: "PARTIAL_SUCCESS", subject: "journal", message: `journal append failed: ${(err as Error).message}` });
      }
    }
    const { run, leaseToken } = claimed;
    return success({ runId: run.id, status: run.status, attempt: run.attempt, branch: run.branch, leaseToken, leaseExpiresAt: run.leaseExpiresAt }, warnings);
  } catch (err) {
    return fromError(err);
  }
}

export async function show(args: z.infer<typeof ZRunArgs>): Promise<Outcome> {
  try {
    return success(await connect(args).run.byId.query({ runId: args.runId }));
  } catch (err) {
    return fromError(err);
  }
}

export async function cancel(args: z.infer<typeof ZRunArgs>): Promise<Outcome> {
  try {
    const run = await connect(args).run.cancel.mutate({ runId: args.runId, reason: args.reason });
    return success({ runId: run.id, status: run.status, cancelRequested: run.cancelRequestedAt !== null });
  } catch (err) {
    return fromError(err);
  }
}

export async function list(args: z.infer<typeof ZListArgs>): Promise<Outcome> {
  try {
    const status = args.status
      ? z.enum(["queued", "claimed", "running", "succeeded", "failed", "cancelled", "merged", "aborted"]).parse(args.status)
      : undefined;
    return success(await connect(args).run.list.query({ workspaceId: args.workspace, status, limit: args.limit }));
  } catch (err) {
    if (err instanceof z.ZodError) return failure("BAD_REQUEST", "unknown status", "status");
    return fromError(err);
  }
}
