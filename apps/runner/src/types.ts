import type { RouterInputs, RouterOutputs } from "@agentboard/client";

/** What `run.claim` hands a runner: the run, its lease token, its project and its DoD checks. */
export type Claim = NonNullable<RouterOutputs["run"]["claim"]>;
export type CompleteInput = RouterInputs["run"]["complete"];
/** What a follow-up continues from (`run.resumeContext`). */
export type ResumeContext = RouterOutputs["run"]["resumeContext"];

/** Why a run stopped before its agent finished on its own. */
export type StopCause = "cancel" | "timeout" | "lease_lost" | "shutdown" | "sandbox_limit";

export type RunOutcome =
  | { kind: "reported"; status: "succeeded" | "failed" | "cancelled"; reason?: string }
  /** The server gave the run up; nothing was reported. */
  | { kind: "lease_lost"; why: string }
  /** The report could not be delivered; the server's reaper will settle the run. */
  | { kind: "unreported"; error: string };

/** Moments of a run, for in-process observers (the local runner's log, tests, the benchmark). */
export interface RunnerObserver {
  onClaimed?(claim: Claim, at: number): void;
  onEngineStart?(runId: string, at: number): void;
  onStop?(runId: string, cause: StopCause, at: number): void;
  onFinished?(runId: string, outcome: RunOutcome): void;
}
