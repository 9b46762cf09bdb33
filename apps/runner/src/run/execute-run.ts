/**
 * One claimed run, from worktree to report (docs/runner-protocol.md, "Runner"), in its steps:
 * prepare.ts (worktree → sandbox → setup script → pre hooks (veto) → run.start),
 * run-engine.ts (the engine, its events streamed), complete.ts (commit, diff, tests, DoD
 * checks → post/error hooks → run.complete through the outbox), cleanup.ts. What the steps
 * share, and how a run stops, is in context.ts.
 *
 * Two ways to stop: a *stop* (cancel, timeout, shutdown) interrupts the agent and the run
 * is still reported; a *lost lease* means the server has moved on, so everything stops
 * and nothing more is written.
 */
import { errorMessage } from "../output/log.js";
import type { Claim, RunOutcome, StopCause } from "../types.js";
import { cleanUpRun } from "./cleanup.js";
import { completeRun, deliver, failureReport } from "./complete.js";
import { type ExecuteDeps, type Report, RunContext } from "./context.js";
import { prepareRun } from "./prepare.js";
import { runAgent } from "./run-engine.js";
import { watchRun } from "./run-watch.js";

export class RunExecution {
  readonly runId: string;
  private readonly ctx: RunContext;

  constructor(
    claim: Claim,
    deps: ExecuteDeps,
    /** Local time the claim's answer arrived. */
    claimedAt: number,
  ) {
    this.ctx = new RunContext(claim, deps, claimedAt);
    this.runId = this.ctx.runId;
  }

  /**
   * Stops the run's agent. The first cause decides how the run is reported; a lost lease
   * additionally silences the run, whatever happened before.
   */
  stop(cause: StopCause, detail?: string): void {
    this.ctx.stop(cause, detail);
  }

  async execute(): Promise<RunOutcome> {
    const { ctx } = this;
    ctx.lease.start();
    const watch = watchRun({
      client: ctx.deps.client,
      runId: ctx.runId,
      afterSeq: ctx.claim.run.eventSeq,
      onCancelRequested: () => ctx.stop("cancel"),
      onGone: (why) => {
        if (!ctx.reporting) ctx.lease.markLost(why);
      },
      onApprovalAnswered: (e) => ctx.approvals.heard(e),
      onUserMessage: (m) => ctx.inbox.put(m),
      log: ctx.log,
    });
    // Requested between the claim and now (the stream backfills, but this is free).
    if (ctx.claim.run.cancelRequestedAt) ctx.stop("cancel");
    let outcome: RunOutcome;
    try {
      const report = await this.produceReport();
      outcome = report ? await deliver(ctx, report) : ctx.silenced();
    } catch (err) {
      outcome = ctx.lease.lost ? ctx.silenced() : { kind: "unreported", error: errorMessage(err) };
    } finally {
      await cleanUpRun(ctx, watch);
    }
    ctx.log.info("run finished", outcome.kind === "reported" ? { status: outcome.status, reason: outcome.reason } : { outcome: outcome.kind });
    ctx.deps.observer.onFinished?.(ctx.runId, outcome);
    return outcome;
  }

  /** The succeeded report, a failure's report, or null when the lease was lost (nothing to report). */
  private async produceReport(): Promise<Report | null> {
    try {
      const wt = await prepareRun(this.ctx);
      const result = await runAgent(this.ctx, wt);
      return await completeRun(this.ctx, wt, result);
    } catch (err) {
      if (this.ctx.lease.lost) return null;
      return await failureReport(this.ctx, err);
    }
  }
}
