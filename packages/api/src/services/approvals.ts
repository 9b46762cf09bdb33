import type { ApprovalRequest, Prisma } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { conflict } from "../errors.js";
import { publishRunChange } from "../infra/notifier.js";
import { transition, type Tx } from "./run-events.js";

/**
 * Approvals (docs/runner-protocol.md, "Approvals"): before a tool call that its workflow's
 * policy names, the runner asks (`approval.requested`), a person answers once
 * (`approval.granted` / `approval.denied`), or the runner gives up when no answer came in
 * time (`approval.expired`, which the agent is told as a denial). A request row is answered
 * by one conditional update, so of two answers at the same instant exactly one counts.
 */

/** How long a request waits for a person when the workflow sets no timeout. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 10 * 60_000;

export type ApprovalSubject =
  | { kind: "command"; command: string; truncated?: boolean }
  | { kind: "write"; path: string; action: "create" | "overwrite" | "edit"; preview: string; truncated?: boolean };

export interface RequestApprovalInput {
  runId: string;
  leaseToken: string;
  /** Chosen by the runner, so that a call retried after a lost answer asks only once. */
  requestId: string;
  tool: string;
  subject: ApprovalSubject;
}

function leaseLost(runId: string) {
  return conflict("LEASE_LOST", `the lease on run ${runId} is not held by this token (expired, reclaimed or finished)`);
}

/** The runner asks. Only the holder of a running run's lease may. */
export async function requestApproval(deps: Deps, actor: string, input: RequestApprovalInput) {
  const asked = await deps.db.prisma.approvalRequest.findUnique({ where: { id: input.requestId } });
  if (asked) {
    if (asked.runId !== input.runId) throw conflict("ALREADY_EXISTS", `approval request ${input.requestId} belongs to another run`);
    return { requestId: asked.id, expiresAt: asked.expiresAt, timeoutMs: asked.expiresAt.getTime() - asked.createdAt.getTime() };
  }
  const current = await deps.db.prisma.run.findUnique({ where: { id: input.runId }, select: { approvalTimeoutMs: true } });
  if (!current) throw leaseLost(input.runId);
  const timeoutMs = current.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  const now = new Date();
  const expiresAt = new Date(now.getTime() + timeoutMs);
  const { kind, ...subject } = input.subject;
  const { request, run } = await deps.db.prisma.$transaction(async (tx) => {
    const request = await tx.approvalRequest.create({
      data: { id: input.requestId, runId: input.runId, tool: input.tool, kind, subject: subject as Prisma.InputJsonValue, createdAt: now, expiresAt },
    });
    const run = await transition(tx, input.runId, { leaseToken: input.leaseToken, status: "running" }, {}, [
      {
        type: "approval.requested",
        actor,
        payload: { requestId: request.id, tool: input.tool, kind, subject: subject as Prisma.InputJsonValue, timeoutMs, expiresAt: expiresAt.toISOString() },
      },
    ]);
    // Throwing rolls the request back: nothing is half-written.
    if (!run) throw leaseLost(input.runId);
    return { request, run };
  });
  await publishRunChange(deps.notifier, run.id, run.boardId);
  return { requestId: request.id, expiresAt: request.expiresAt, timeoutMs };
}

export type ApprovalDecision = "approve" | "deny";

/** A person answers. CONFLICT (with a reason) for an unknown, answered or expired request, or a run no longer running. */
export async function answerApproval(deps: Deps, actor: string, input: { runId: string; requestId: string; decision: ApprovalDecision; note?: string }) {
  const now = new Date();
  const status = input.decision === "approve" ? "granted" : "denied";
  const note = input.note?.trim() || null;
  const outcome = await deps.db.prisma.$transaction(async (tx) => {
    const won = await tx.approvalRequest.updateMany({
      where: { id: input.requestId, runId: input.runId, status: "pending", expiresAt: { gt: now } },
      data: { status, decidedAt: now, decidedBy: actor, note },
    });
    if (won.count === 0) return { refused: await refusal(tx, input.runId, input.requestId, now) };
    const run = await transition(tx, input.runId, { status: "running" }, {}, [
      { type: `approval.${status}`, actor, payload: { requestId: input.requestId, by: actor, note } },
    ]);
    if (!run) throw notRunning(input.runId);
    return { run };
  });
  if ("refused" in outcome) throw outcome.refused;
  await publishRunChange(deps.notifier, outcome.run.id, outcome.run.boardId);
  return viewApproval(await deps.db.prisma.approvalRequest.findUniqueOrThrow({ where: { id: input.requestId } }));
}

function notRunning(runId: string, status?: string) {
  return conflict("RUN_NOT_RUNNING", `run ${runId} is ${status ?? "not running"}: its approvals can no longer be answered`, status ? { status } : undefined);
}

/** Why an answer did not take, in the order a caller can act on. */
async function refusal(tx: Tx, runId: string, requestId: string, now: Date) {
  const request = await tx.approvalRequest.findUnique({ where: { id: requestId } });
  if (!request || request.runId !== runId) return conflict("APPROVAL_UNKNOWN", `run ${runId} has no approval request ${requestId}`, { requestId });
  if (request.status !== "pending") {
    return conflict(
      "APPROVAL_ANSWERED",
      `approval request ${requestId} was already answered (${request.status}${request.decidedBy ? ` by ${request.decidedBy}` : ""})`,
      {
        requestId,
        status: request.status,
        decidedBy: request.decidedBy,
      },
    );
  }
  const run = await tx.run.findUnique({ where: { id: runId }, select: { status: true } });
  if (run?.status !== "running") return notRunning(runId, run?.status);
  if (request.expiresAt <= now)
    return conflict("APPROVAL_EXPIRED", `approval request ${requestId} timed out at ${request.expiresAt.toISOString()}`, { requestId });
  // Unreachable unless the row changed between the update and this read: answered meanwhile.
  return conflict("APPROVAL_ANSWERED", `approval request ${requestId} was answered at the same moment`, { requestId });
}

/**
 * The runner gives up waiting: a pending request becomes expired (`approval.expired`).
 * Returns the request as it ends, which is the answer the runner acts on: an answer that
 * arrived just before (and that the runner had not heard yet) stands.
 */
export async function expireApproval(deps: Deps, actor: string, input: { runId: string; leaseToken: string; requestId: string }) {
  const now = new Date();
  const run = await deps.db.prisma.$transaction(async (tx) => {
    const expired = await tx.approvalRequest.updateMany({
      where: { id: input.requestId, runId: input.runId, status: "pending" },
      data: { status: "expired", decidedAt: now },
    });
    if (expired.count === 0) return null;
    const run = await transition(tx, input.runId, { leaseToken: input.leaseToken, status: "running" }, {}, [
      { type: "approval.expired", actor, payload: { requestId: input.requestId } },
    ]);
    if (!run) throw leaseLost(input.runId);
    return run;
  });
  if (run) await publishRunChange(deps.notifier, run.id, run.boardId);
  const request = await deps.db.prisma.approvalRequest.findUnique({ where: { id: input.requestId } });
  if (!request || request.runId !== input.runId)
    throw conflict("APPROVAL_UNKNOWN", `run ${input.runId} has no approval request ${input.requestId}`, { requestId: input.requestId });
  return viewApproval(request);
}

export function viewApproval(r: ApprovalRequest) {
  return {
    id: r.id,
    runId: r.runId,
    tool: r.tool,
    kind: r.kind,
    subject: r.subject,
    status: r.status,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    decidedAt: r.decidedAt,
    decidedBy: r.decidedBy,
    note: r.note,
  };
}

export async function listApprovals(deps: Deps, runId: string) {
  const rows = await deps.db.prisma.approvalRequest.findMany({ where: { runId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  return rows.map(viewApproval);
}
