/**
 * A run's last steps: its work committed and diffed (partial work too, after a stop), the
 * project's test command and the DoD checks, the post or error hooks, and the report —
 * written to the outbox, then delivered to `run.complete`.
 */
import path from "node:path";
import { runChecks } from "../checks/checks.js";
import type { EngineResult } from "../engines/types.js";
import { LeaseGoneError } from "../lifecycle/call.js";
import { type CollectedChanges, commitAndDiff, commitMessage, pushRunBranch, runTestCommand } from "../output/collect.js";
import { errorMessage } from "../output/log.js";
import { deliverEntry } from "../output/outbox.js";
import { describeExit, shellPayload } from "../process/shell.js";
import type { RunOutcome } from "../types.js";
import type { PreparedWorktree } from "../workspace/prepare-worktree.js";
import type { Output, Report, RunContext } from "./context.js";
import { classifyFailure, RunFailure } from "./run-failure.js";

/** The server keeps transcripts up to this size (its run.complete refuses larger ones). */
const TRANSCRIPT_MAX_CHARS = 8 * 1024 * 1024;

/** After the agent finished: commit, diff, tests, DoD checks, post hooks → the succeeded report. */
export async function completeRun(ctx: RunContext, wt: PreparedWorktree, result: EngineResult): Promise<Report> {
  const { run, project } = ctx.claim;
  const changes = await collectChanges(ctx, wt, commitMessage(result.summary, `agentboard: run ${run.id}`));
  ctx.throwIfStopped();

  const tests = await runTestCommand(project.testCommand, ctx.shellOptions("checks", ctx.agentStop.signal));
  if (tests.result) {
    ctx.emit("runner.tests", shellPayload(tests.result));
    ctx.runLog.note(`test command ${describeExit(tests.result)}`);
  }
  ctx.throwIfStopped();

  await runChecks(ctx.claim.checks, {
    ...ctx.shellOptions("checks", ctx.agentStop.signal),
    already: (command) => (tests.result && command.trim() === project.testCommand?.trim() ? tests.result : undefined),
    onResult: async (r) => {
      ctx.runLog.note(`DoD check ${r.key}: ${r.passed ? "passed" : "failed"} (exit ${r.exitCode ?? "killed"})`);
      await ctx.guarded(() =>
        ctx.deps.client.dod.reportCheck.mutate({
          runId: run.id,
          leaseToken: ctx.claim.leaseToken,
          itemId: r.itemId,
          command: r.command,
          exitCode: r.exitCode,
          durationMs: r.durationMs,
          timedOut: r.timedOut,
          output: r.outputTail,
        }),
      );
    },
  });
  ctx.throwIfStopped();

  await ctx.hooksOf("post", ctx.leaseGone.signal, false, { AGENTBOARD_RUN_STATUS: "succeeded" });
  if (ctx.lease.lost) throw new LeaseGoneError();

  return {
    status: "succeeded",
    output: {
      ...changesOutput(changes),
      summary: result.summary.slice(0, 100_000),
      testsRun: tests.testsRun,
      testsPassed: tests.testsPassed,
      testOutput: tests.testOutput?.slice(-1024 * 1024),
      logs: ctx.runLog.toString(),
      worktreePath: wt.path,
      ...conversationOutput(ctx),
    },
    metrics: metrics(ctx, result),
  };
}

/** A run that did not succeed: classified, its partial work collected, the error hooks run. */
export async function failureReport(ctx: RunContext, err: unknown): Promise<Report> {
  const timeoutMs = ctx.claim.run.timeoutMs ?? ctx.deps.config.agentTimeoutMs;
  const { status, reason, message } = classifyFailure(ctx.cause, err, timeoutMs, ctx.limitHit?.message);
  ctx.log.info("run did not succeed", { status, reason });
  ctx.runLog.note(`run ${status} (${reason}): ${message}`);
  let output: Output = {};
  // Partial work is committed too: the reviewer sees what the agent got to.
  if (ctx.lease.lost) throw new LeaseGoneError();
  // A merge left with conflict markers is not work to keep: the branch stays where it was.
  if (ctx.worktree && ctx.engineStarted && reason !== "conflicts_unresolved") {
    try {
      const changes = await collectChanges(ctx, ctx.worktree, commitMessage(ctx.lastSummary, `agentboard: partial work of run ${ctx.runId} (${reason})`));
      output = changesOutput(changes);
    } catch (e) {
      ctx.runLog.note(`could not collect the partial work: ${errorMessage(e)}`);
    }
  }
  if (status === "failed" && ctx.worktree) {
    await ctx.hooksOf("error", ctx.leaseGone.signal, false, {
      AGENTBOARD_RUN_STATUS: "failed",
      AGENTBOARD_ERROR_REASON: reason,
      AGENTBOARD_ERROR: message.slice(0, 4_000),
    });
  }
  return {
    status,
    output: { ...output, logs: ctx.runLog.toString(), worktreePath: ctx.worktree?.path, ...conversationOutput(ctx) },
    metrics: metrics(ctx, null),
    error: { message: message.slice(0, 10_000), reason },
  };
}

/**
 * The report and the events not yet taken go into the outbox first, then to the server,
 * retried until it takes them or says the lease is gone; a runner stopped meanwhile
 * sends them when it starts next (output/outbox.ts).
 */
export async function deliver(ctx: RunContext, report: Report): Promise<RunOutcome> {
  const events = await ctx.batcher.takePending();
  if (ctx.lease.refused) return ctx.silenced();
  ctx.reporting = true;
  const { outbox } = ctx.deps;
  const entry = { server: ctx.deps.config.server, runId: ctx.runId, leaseToken: ctx.claim.leaseToken, events, report };
  outbox.put(entry);
  const delivery = await deliverEntry(ctx.deps.client, entry, { signal: ctx.deps.delivering, log: ctx.log, outbox });
  if (delivery.kind !== "pending") outbox.remove(ctx.runId);
  if (delivery.kind === "delivered") return { kind: "reported", status: delivery.status, reason: delivery.reason };
  if (delivery.kind === "lease_lost") return ctx.silenced();
  return { kind: "unreported", error: `the report is kept in ${outbox.dir} and is sent when the runner starts next` };
}

async function collectChanges(ctx: RunContext, wt: PreparedWorktree, message: string): Promise<CollectedChanges> {
  const { branch } = ctx.claim.run;
  let changes: CollectedChanges;
  try {
    changes = await commitAndDiff({
      starter: ctx.sandboxOf().starter("collect"),
      sourceRepo: wt.sourceRepo,
      baseCommit: wt.baseCommit,
      startCommit: wt.startCommit,
      branch,
      message,
      bundleFile: path.join(ctx.deps.sandbox.stateDir, `${ctx.runId}.bundle`),
      // Partial work is collected after a stop too; only a lost lease ends it.
      signal: ctx.leaseGone.signal,
    });
  } catch (err) {
    throw new RunFailure("collect_failed", `could not commit or diff the run's work: ${errorMessage(err)}`);
  }
  if (wt.mode === "clone" && changes.commit) {
    try {
      await pushRunBranch(wt.sourceRepo, branch, ctx.deps.config.gitToken);
    } catch (err) {
      throw new RunFailure("push_failed", `could not push ${branch} to the project's remote: ${errorMessage(err)}`);
    }
  }
  const { diff } = changes;
  ctx.emit("runner.commit", {
    commit: changes.commit,
    diffHash: diff.hash,
    ...diff.stat,
    truncated: diff.truncated,
    files: diff.files.map((f) => ({ ...f })),
  });
  ctx.runLog.note(
    changes.commit
      ? `committed ${changes.commit.slice(0, 12)}: ${diff.stat.files} files, +${diff.stat.additions} -${diff.stat.deletions}`
      : "no changes to commit",
  );
  return changes;
}

function changesOutput(c: CollectedChanges): Output {
  return {
    headCommit: c.tip,
    filesChanged: c.diff.files.map((f) => f.path),
    diff: c.diff.diff,
    diffHash: c.diff.hash,
    diffStat: c.diff.stat,
  };
}

/** What a follow-up resumes: the engine's transcript (when it fits) and session id. */
function conversationOutput(ctx: RunContext): Pick<Output, "transcript" | "sessionId" | "model"> {
  const out: Pick<Output, "transcript" | "sessionId" | "model"> = {};
  if (ctx.sessionId) out.sessionId = ctx.sessionId;
  if (ctx.modelUsed) out.model = ctx.modelUsed;
  if (ctx.transcript) {
    const text = JSON.stringify(ctx.transcript);
    if (text.length <= TRANSCRIPT_MAX_CHARS) out.transcript = JSON.parse(text) as NonNullable<Output["transcript"]>;
    else ctx.runLog.note(`the conversation (${text.length} characters) is too large to keep; a follow-up starts from the thread's summary`);
  }
  return out;
}

function metrics(ctx: RunContext, result: EngineResult | null): Report["metrics"] {
  const m = result ?? ctx.usage;
  return {
    tokensIn: m.tokensIn,
    tokensOut: m.tokensOut,
    costUsd: m.costUsd,
    toolCalls: m.toolCalls,
    durationMs: ctx.startedAt === null ? undefined : Date.now() - ctx.startedAt,
  };
}
