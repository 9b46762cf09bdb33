/**
 * The engines' side of approvals: whether a tool call must wait for a person, asking, and
 * what the agent is told when the answer is no.
 */
import { formatDuration } from "../duration.js";
import { EngineError, needsApproval, type ApprovalAnswer, type ApprovalSubject, type EngineContext } from "./types.js";

/**
 * Null when the run's policy lets the call go; otherwise the person's answer. A context
 * whose policy needs approvals but that cannot ask is a runner bug: it must not run the
 * call unapproved.
 */
export async function approvalFor(
  ctx: Pick<EngineContext, "approval" | "requestApproval">,
  tool: string,
  subject: ApprovalSubject,
): Promise<ApprovalAnswer | null> {
  if (!needsApproval(ctx.approval, subject.kind)) return null;
  if (!ctx.requestApproval) throw new EngineError("approval_unsupported", `the run requires approval of ${subject.kind}s, but this runner cannot ask for it`);
  return ctx.requestApproval({ tool, subject });
}

/** The tool result the model gets instead of the call's output. */
export function refusalText(answer: ApprovalAnswer, what: string): string {
  if (answer.decision === "expired") {
    return (
      `Not approved: no one answered the approval request for this ${what} within ` +
      `${formatDuration(answer.timeoutMs)}, so it was not run (an unanswered request counts as ` +
      `denied). Continue without it, or finish and explain what you need.`
    );
  }
  const reason = answer.note ? ` Their reason: ${answer.note}` : "";
  return (
    `Denied: ${answer.by ?? "a person"} did not approve this ${what}, so it was not ` +
    `run.${reason} Do not try to do the same another way; continue without it, or finish and ` +
    `explain what you need.`
  );
}
