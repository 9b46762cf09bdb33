import { EngineError } from "../engines/types.js";
import { formatDuration } from "../duration.js";
import { errorMessage } from "../output/log.js";
import type { StopCause } from "../types.js";

/**
 * A run that cannot go on, with the machine-readable reason the server records
 * (`errorReason`): hook_veto, setup_failed, timeout, worktree_failed, engine_error…
 */
export class RunFailure extends Error {
  override readonly name = "RunFailure";
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FailureVerdict {
  status: "failed" | "cancelled";
  reason: string;
  message: string;
}

/**
 * How a run that did not succeed is reported. Why it was stopped comes first (a cancel is
 * a cancel even if the agent then failed noisily); otherwise the error's own reason.
 */
export function classifyFailure(cause: StopCause | null, err: unknown, timeoutMs: number, limitMessage?: string): FailureVerdict {
  if (cause === "cancel") return { status: "cancelled", reason: "cancelled", message: "cancelled on request" };
  if (cause === "timeout") return { status: "failed", reason: "timeout", message: `the agent did not finish within ${formatDuration(timeoutMs)}` };
  if (cause === "sandbox_limit") return { status: "failed", reason: "sandbox_limit", message: limitMessage ?? "the run hit a limit of its sandbox" };
  if (cause === "shutdown") return { status: "failed", reason: "runner_shutdown", message: "the runner shut down before the agent finished" };
  if (err instanceof RunFailure || err instanceof EngineError) return { status: "failed", reason: err.reason, message: err.message };
  return { status: "failed", reason: "runner_error", message: `the runner failed: ${errorMessage(err)}` };
}
