/**
 * One claimed run, from worktree to report (docs/runner-protocol.md, "Runner"):
 * worktree → setup script → pre hooks (veto) → run.start → engine, its events streamed →
 * commit, diff, tests, DoD checks → post/error hooks → run.complete.
 *
 * Two ways to stop: a *stop* (cancel, timeout, shutdown) interrupts the agent and the run
 * is still reported; a *lost lease* means the server has moved on, so everything stops
 * and nothing more is written.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import type { AgentboardClient } from "@agentboard/client";
import { parsePolicy, type EgressDecision, type LimitHit, type Phase, type RunSandbox, type SandboxHost, type SandboxPolicy } from "@agentboard/sandbox";
import { callUnderLease, isTransient, LeaseGoneError } from "./call.js";
import { ApprovalGate } from "./approval-gate.js";
import { deliverEntry, type Outbox } from "./outbox.js";
import { runChecks } from "./checks.js";
import { branchCommit } from "@agentboard/git";
import {
  checkoutStart,
  commitAndDiff,
  commitMessage,
  startMerge,
  unresolvedConflicts,
  pushRunBranch,
  runTestCommand,
  type CollectedChanges,
} from "./collect.js";
import type { RunnerConfig } from "./config.js";
import { formatDuration } from "./duration.js";
import { createEngine } from "./engines/index.js";
import { EngineError, type EngineEvent, type EngineResult } from "./engines/types.js";
import { EventBatcher } from "./event-batcher.js";
import { outgoing } from "./event-payload.js";
import { PausableTimer } from "./pausable-timer.js";
import { parseHooks, runHooks, type HookKind, type ProjectHooks } from "./hooks.js";
import { isLeaseLost, Lease } from "./lease.js";
import { errorMessage, type Logger } from "./log.js";
import { prepareWorktree, type PreparedWorktree } from "./prepare-worktree.js";
import { classifyFailure, RunFailure } from "./run-failure.js";
import { RunLog } from "./run-log.js";
import { watchRun, type RunWatch } from "./run-watch.js";
import { describeExit, runShell, shellPayload, tail, type ShellOptions, type ShellResult } from "./shell.js";
import { worktreeBytes } from "./worktree-size.js";
import { agentSpecOf } from "./engines/acp/spec.js";
import { RunInbox } from "./inbox.js";
import type { Claim, CompleteInput, ResumeContext, RunnerObserver, RunOutcome, StopCause } from "./types.js";

/** The server keeps transcripts up to this size (its run.complete refuses larger ones). */
const TRANSCRIPT_MAX_CHARS = 8 * 1024 * 1024;

export interface ExecuteDeps {
  client: AgentboardClient;
  config: RunnerConfig;
  log: Logger;
  /** The runner's environment: the locale and the secrets projects declare are read from it. */
  baseEnv: NodeJS.ProcessEnv;
  /** Starts and confines every process of the run. */
  sandbox: SandboxHost;
  observer: RunnerObserver;
  /** Where a finished run's report is kept until the server has it. */
  outbox: Outbox;
  /** Aborted when the runner gives up waiting for the server (the report stays in the outbox). */
  delivering: AbortSignal;
}

type Report = Omit<CompleteInput, "runId" | "leaseToken">;
type Output = NonNullable<Report["output"]>;

const DEFAULT_LEASE_MS = 30_000;

class StoppedError extends Error {
  override readonly name = "StoppedError";
}

export class RunExecution {
  readonly runId: string;
  /** Aborted by any stop: the agent and every command of the run end. */
  private readonly agentStop = new AbortController();
  /** Aborted only when the lease is lost: even reporting hooks end. */
  private readonly leaseGone = new AbortController();
  private cause: StopCause | null = null;
  private lostWhy = "lease lost";
  private readonly lease: Lease;
  private readonly batcher: EventBatcher;
  private readonly runLog = new RunLog();
  private readonly log: Logger;
  private watch: RunWatch | null = null;
  private readonly approvals: ApprovalGate;
  /** The agent's timeout; paused while it waits for an approval. */
  private agentTimer: PausableTimer | null = null;
  private worktree: PreparedWorktree | null = null;
  private box: RunSandbox | null = null;
  private limitHit: LimitHit | null = null;
  private hooks: ProjectHooks = { pre: [], post: [], error: [] };
  private engineStarted = false;
  /** Set once run.complete is under way: from then on our own final event is expected on the stream. */
  private reporting = false;
  private startedAt: number | null = null;
  private lastSummary = "";
  /** A follow-up's start (the server's run.resumeContext). */
  private resume: ResumeContext | null = null;
  private transcript: unknown[] | null = null;
  private sessionId: string | null = null;
  /** The model the engine said it used: recorded on a run that named none (the default applied). */
  private modelUsed: string | null = null;
  private readonly inbox = new RunInbox();
  /** A resolve-conflicts run: the files the merge of the base left conflicting. */
  private conflicts: string[] = [];
  private readonly usage = { tokensIn: 0, tokensOut: 0, costUsd: 0, toolCalls: 0 };

  constructor(
    private readonly claim: Claim,
    private readonly deps: ExecuteDeps,
    /** Local time the claim's answer arrived. */
    claimedAt: number,
  ) {
    const { run, leaseToken } = claim;
    this.runId = run.id;
    this.log = deps.log.child({ run: run.id });
    const leaseMs = run.leaseExpiresAt && run.claimedAt ? Math.max(1_000, run.leaseExpiresAt.getTime() - run.claimedAt.getTime()) : DEFAULT_LEASE_MS;
    this.lease = new Lease({
      client: deps.client,
      runId: run.id,
      leaseToken,
      leaseMs,
      heldUntil: claimedAt + leaseMs,
      heartbeatMs: deps.config.heartbeatMs,
      graceMs: deps.config.leaseGraceMs,
      onCancelRequested: () => this.stop("cancel"),
      onLost: (why) => this.stop("lease_lost", why),
      log: this.log,
    });
    this.batcher = new EventBatcher({
      flushMs: deps.config.eventFlushMs,
      send: async (events) => {
        await deps.client.run.appendEvents.mutate({ runId: run.id, leaseToken, events });
      },
      isFatal: (err) => isLeaseLost(err) || this.lease.lost,
      isRetryable: isTransient,
      onFatal: () => this.lease.markLost("the server refused this run's events"),
      onRetry: (err) => this.log.warn("sending events failed; retrying", { error: errorMessage(err) }),
      onDropped: (err, n) => {
        this.log.error("the server refused a batch of events; skipped", { events: n, error: errorMessage(err) });
        this.runLog.note(`${n} events were refused by the server and are missing from the stream: ${errorMessage(err)}`);
      },
    });
    this.approvals = this.approvalGate();
  }

  private approvalGate(): ApprovalGate {
    const base = { runId: this.runId, leaseToken: this.claim.leaseToken };
    return new ApprovalGate({
      signal: this.agentStop.signal,
      send: async (requestId, ask) => {
        // The request follows the tool call it is about in the run's log.
        await this.batcher.flush();
        const sent = await this.guarded(() => this.deps.client.run.requestApproval.mutate({ ...base, requestId, tool: ask.tool, subject: ask.subject }));
        this.runLog.note(`waiting for approval of ${ask.tool} (up to ${formatDuration(sent.timeoutMs)})`);
        return sent;
      },
      expire: async (requestId) => {
        const r = await this.guarded(() => this.deps.client.run.expireApproval.mutate({ ...base, requestId }));
        this.runLog.note(`approval request ${requestId}: ${r.status === "expired" ? "no answer in time" : r.status}`);
        return r;
      },
      onWaiting: (waiting) => (waiting ? this.agentTimer?.pause() : this.agentTimer?.resume()),
    });
  }

  /**
   * Stops the run's agent. The first cause decides how the run is reported; a lost lease
   * additionally silences the run, whatever happened before.
   */
  stop(cause: StopCause, detail?: string): void {
    if (cause === "lease_lost") {
      if (this.leaseGone.signal.aborted) return;
      this.lostWhy = detail ?? this.lostWhy;
      this.log.warn("lease lost: stopping the agent and reporting nothing", { why: this.lostWhy });
      this.batcher.close();
      this.leaseGone.abort(new LeaseGoneError(this.lostWhy));
    } else if (this.cause !== null || this.agentStop.signal.aborted) {
      return;
    }
    this.cause ??= cause;
    if (cause !== "lease_lost") {
      this.log.info("stopping the agent", { cause });
      this.runLog.note(`stopping: ${cause}`);
      this.emit("runner.stop", { cause });
    }
    const engineReason = cause === "timeout" ? "timeout" : "cancelled";
    this.agentStop.abort(new EngineError(engineReason, `run stopped: ${cause}`));
    this.deps.observer.onStop?.(this.runId, cause, Date.now());
  }

  async execute(): Promise<RunOutcome> {
    this.lease.start();
    this.watch = watchRun({
      client: this.deps.client,
      runId: this.runId,
      afterSeq: this.claim.run.eventSeq,
      onCancelRequested: () => this.stop("cancel"),
      onGone: (why) => {
        if (!this.reporting) this.lease.markLost(why);
      },
      onApprovalAnswered: (e) => this.approvals.heard(e),
      onUserMessage: (m) => this.inbox.put(m),
      log: this.log,
    });
    // Requested between the claim and now (the stream backfills, but this is free).
    if (this.claim.run.cancelRequestedAt) this.stop("cancel");
    let outcome: RunOutcome;
    try {
      const report = await this.produceReport();
      outcome = report ? await this.deliver(report) : this.silenced();
    } catch (err) {
      outcome = this.lease.lost ? this.silenced() : { kind: "unreported", error: errorMessage(err) };
    } finally {
      this.lease.stop();
      this.watch.stop();
      this.batcher.close();
      await this.closeSandbox();
    }
    this.log.info("run finished", outcome.kind === "reported" ? { status: outcome.status, reason: outcome.reason } : { outcome: outcome.kind });
    this.deps.observer.onFinished?.(this.runId, outcome);
    return outcome;
  }

  private silenced(): RunOutcome {
    return { kind: "lease_lost", why: this.lostWhy };
  }

  // ── the pipeline ─────────────────────────────────────────────────────────────────

  private async produceReport(): Promise<Report | null> {
    try {
      return await this.pipeline();
    } catch (err) {
      if (this.lease.lost) return null;
      return await this.failureReport(err);
    }
  }

  private async pipeline(): Promise<Report> {
    const { run, project } = this.claim;
    const { config } = this.deps;
    this.hooks = parseHooks(project.hooks);

    this.runLog.note(`runner ${config.name} claimed the run (attempt ${run.attempt}, engine ${run.engine})`);
    const policy = this.sandboxPolicy();
    if (run.parentRunId) {
      this.resume = await this.guarded(() => this.deps.client.run.resumeContext.query({ runId: run.id, leaseToken: this.claim.leaseToken }));
      this.runLog.note(`continuing the thread of run ${run.parentRunId} (${run.kind}) from ${this.resume.startCommit?.slice(0, 12) ?? "its branch"}`);
    }
    const t0 = Date.now();
    const wt = await prepareWorktree(
      config.worktreesDir,
      this.deps.sandbox.stateDir,
      {
        runId: run.id,
        branch: run.branch,
        baseBranch: run.baseBranch,
        repoPath: project.repoPath,
        remoteUrl: project.remoteUrl,
        startCommit: this.resume?.startCommit ?? run.startCommit,
        parentRunId: run.parentRunId,
      },
      config.gitToken,
    );
    this.worktree = wt;
    this.emit("runner.worktree", {
      path: wt.path,
      branch: run.branch,
      baseBranch: run.baseBranch,
      baseCommit: wt.baseCommit,
      startCommit: wt.startCommit,
      reused: wt.reused,
      mode: wt.mode,
      durationMs: Date.now() - t0,
    });
    this.runLog.note(
      `worktree ${wt.path} on ${run.branch} from ${run.baseBranch} (${wt.baseCommit.slice(0, 12)}, ${wt.mode}${wt.reused ? `, the parent's checkout at ${wt.startCommit.slice(0, 12)}` : ""})`,
    );
    // Measured while setup and hooks run; it only feeds the worktree record.
    const size = worktreeBytes(wt.sourceRepo, wt.baseCommit);
    this.openSandbox(wt, policy);
    if (wt.reused) {
      try {
        await checkoutStart(this.sandboxOf().starter("collect"), run.branch, wt.startCommit, this.agentStop.signal);
      } catch (err) {
        throw new RunFailure("worktree_failed", `could not move the parent's checkout to ${wt.startCommit}: ${errorMessage(err)}`);
      }
    }
    if (run.kind === "resolve_conflicts") await this.startBaseMerge(wt);
    this.throwIfStopped();

    if (project.setupScript?.trim()) {
      const setup = await this.shell(project.setupScript, "setup", this.agentStop.signal);
      this.emit("runner.setup", shellPayload(setup));
      if (!setup.ok) {
        this.throwIfStopped();
        throw new RunFailure("setup_failed", `the setup script ${describeExit(setup)}:\n${tail(setup.output, 4_000)}`);
      }
    }

    const pre = await this.hooksOf("pre", this.agentStop.signal, true);
    const veto = pre.find((r) => !r.ok);
    this.throwIfStopped();
    if (veto) {
      throw new RunFailure("hook_veto", `pre hook \`${tail(veto.command, 200)}\` ${describeExit(veto)} and vetoed the run:\n${tail(veto.output, 4_000)}`);
    }

    const sizeBytes = await size;
    await this.guarded(() => this.deps.client.run.start.mutate({ runId: run.id, leaseToken: this.claim.leaseToken, worktreePath: wt.path, sizeBytes }));
    this.startedAt = Date.now();
    this.throwIfStopped();

    const result = await this.runEngine(wt);
    if (this.conflicts.length > 0) {
      const left = await unresolvedConflicts(this.sandboxOf().starter("collect"), this.conflicts, this.leaseGone.signal);
      if (left.length > 0) throw new RunFailure("conflicts_unresolved", `conflict markers remain in ${left.length} file(s): ${left.slice(0, 20).join(", ")}`);
      this.runLog.note(`every conflict resolved: the merge of ${run.baseBranch} is committed`);
    }
    this.runLog.note(
      `agent finished: ${result.turns} turns, ${result.toolCalls} tool calls, ${result.tokensIn}+${result.tokensOut} tokens, $${result.costUsd.toFixed(4)}`,
    );

    const changes = await this.collectChanges(wt, commitMessage(result.summary, `agentboard: run ${run.id}`));
    this.throwIfStopped();

    const tests = await runTestCommand(project.testCommand, this.shellOptions("checks", this.agentStop.signal));
    if (tests.result) {
      this.emit("runner.tests", shellPayload(tests.result));
      this.runLog.note(`test command ${describeExit(tests.result)}`);
    }
    this.throwIfStopped();

    await runChecks(this.claim.checks, {
      ...this.shellOptions("checks", this.agentStop.signal),
      already: (command) => (tests.result && command.trim() === project.testCommand?.trim() ? tests.result : undefined),
      onResult: async (r) => {
        this.runLog.note(`DoD check ${r.key}: ${r.passed ? "passed" : "failed"} (exit ${r.exitCode ?? "killed"})`);
        await this.guarded(() =>
          this.deps.client.dod.reportCheck.mutate({
            runId: run.id,
            leaseToken: this.claim.leaseToken,
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
    this.throwIfStopped();

    await this.hooksOf("post", this.leaseGone.signal, false, { AGENTBOARD_RUN_STATUS: "succeeded" });
    if (this.lease.lost) throw new LeaseGoneError();

    return {
      status: "succeeded",
      output: {
        ...this.changesOutput(changes),
        summary: result.summary.slice(0, 100_000),
        testsRun: tests.testsRun,
        testsPassed: tests.testsPassed,
        testOutput: tests.testOutput?.slice(-1024 * 1024),
        logs: this.runLog.toString(),
        worktreePath: wt.path,
        ...this.conversationOutput(),
      },
      metrics: this.metrics(result),
    };
  }

  /** A resolve-conflicts run: the base's tip merged into the checkout, conflicts left for the agent. */
  private async startBaseMerge(wt: PreparedWorktree): Promise<void> {
    const { run } = this.claim;
    const base = await branchCommit(wt.sourceRepo, run.baseBranch);
    if (base === null) throw new RunFailure("worktree_failed", `base branch ${run.baseBranch} does not exist`);
    try {
      this.conflicts = await startMerge(this.sandboxOf().starter("collect"), base, this.agentStop.signal);
    } catch (err) {
      throw new RunFailure("worktree_failed", `could not start merging ${run.baseBranch}: ${errorMessage(err)}`);
    }
    // The run's diff is against the base it merged.
    wt.baseCommit = base;
    this.emit("runner.merge_started", { baseBranch: run.baseBranch, baseCommit: base, conflicts: this.conflicts });
    this.runLog.note(`merging ${run.baseBranch} (${base.slice(0, 12)}): ${this.conflicts.length} conflicting file(s) left for the agent`);
  }

  private async runEngine(wt: PreparedWorktree): Promise<EngineResult> {
    const { run } = this.claim;
    const { config } = this.deps;
    const engine = createEngine(run.engine, {
      anthropic: { maxResumeChars: config.resumeMaxChars },
      command: { graceMs: config.killGraceMs },
      acp: { graceMs: config.killGraceMs },
      claudeCode: { bin: config.claudeCodeBin, graceMs: config.killGraceMs },
    });
    const timeoutMs = run.timeoutMs ?? config.agentTimeoutMs;
    this.agentTimer = new PausableTimer(timeoutMs, () => this.stop("timeout"));
    this.engineStarted = true;
    this.deps.observer.onEngineStart?.(run.id, Date.now());
    this.runLog.note(
      `agent started (${engine.name}${(run.model ?? config.model) ? `, ${run.model ?? config.model}` : ""}, timeout ${formatDuration(timeoutMs)})`,
    );
    try {
      return await engine.run({
        worktree: wt.path,
        prompt: run.prompt,
        model: run.model ?? config.model ?? null,
        command: run.command,
        agent: agentSpecOf(run.agent),
        maxTurns: run.maxTurns,
        signal: this.agentStop.signal,
        env: this.sandboxOf().environment("agent"),
        starter: this.sandboxOf().starter("agent"),
        anthropic: { apiKey: config.anthropicApiKey, baseURL: config.anthropicBaseUrl },
        budgetUsd: run.budgetUsd,
        approval: run.approval,
        requestApproval: (ask) => this.approvals.ask(ask),
        resume: this.resume && {
          transcript: this.resume.transcript?.engine === run.engine && Array.isArray(this.resume.transcript.messages) ? this.resume.transcript.messages : null,
          sessionId: this.resume.sessionId,
          seed: this.resume.seed ?? "",
        },
        onTranscript: (messages) => {
          this.transcript = messages;
        },
        onSession: (id) => {
          this.sessionId = id;
        },
        onModel: (model) => {
          this.modelUsed = model;
        },
        inbox: this.inbox,
        emit: (e) => this.onEngineEvent(e),
      });
    } finally {
      this.agentTimer.clear();
    }
  }

  private onEngineEvent(e: EngineEvent): void {
    if (this.leaseGone.signal.aborted) return;
    if (e.type === "agent.usage") Object.assign(this.usage, { tokensIn: e.payload.tokensIn, tokensOut: e.payload.tokensOut, costUsd: e.payload.costUsd });
    if (e.type === "tool.call") this.usage.toolCalls++;
    if (e.type === "agent.message" && e.payload.role === "assistant") this.lastSummary = e.payload.text;
    this.runLog.engineEvent(e);
    this.emit(e.type, e.payload);
  }

  private async collectChanges(wt: PreparedWorktree, message: string): Promise<CollectedChanges> {
    let changes: CollectedChanges;
    try {
      changes = await commitAndDiff({
        starter: this.sandboxOf().starter("collect"),
        sourceRepo: wt.sourceRepo,
        baseCommit: wt.baseCommit,
        startCommit: wt.startCommit,
        branch: this.claim.run.branch,
        message,
        bundleFile: path.join(this.deps.sandbox.stateDir, `${this.runId}.bundle`),
        // Partial work is collected after a stop too; only a lost lease ends it.
        signal: this.leaseGone.signal,
      });
    } catch (err) {
      throw new RunFailure("collect_failed", `could not commit or diff the run's work: ${errorMessage(err)}`);
    }
    if (wt.mode === "clone" && changes.commit) {
      try {
        await pushRunBranch(wt.sourceRepo, this.claim.run.branch, this.deps.config.gitToken);
      } catch (err) {
        throw new RunFailure("push_failed", `could not push ${this.claim.run.branch} to the project's remote: ${errorMessage(err)}`);
      }
    }
    const { diff } = changes;
    this.emit("runner.commit", {
      commit: changes.commit,
      diffHash: diff.hash,
      ...diff.stat,
      truncated: diff.truncated,
      files: diff.files.map((f) => ({ ...f })),
    });
    this.runLog.note(
      changes.commit
        ? `committed ${changes.commit.slice(0, 12)}: ${diff.stat.files} files, +${diff.stat.additions} -${diff.stat.deletions}`
        : "no changes to commit",
    );
    return changes;
  }

  private changesOutput(c: CollectedChanges): Output {
    return {
      headCommit: c.tip,
      filesChanged: c.diff.files.map((f) => f.path),
      diff: c.diff.diff,
      diffHash: c.diff.hash,
      diffStat: c.diff.stat,
    };
  }

  // ── failure ──────────────────────────────────────────────────────────────────────

  private async failureReport(err: unknown): Promise<Report> {
    const timeoutMs = this.claim.run.timeoutMs ?? this.deps.config.agentTimeoutMs;
    const { status, reason, message } = classifyFailure(this.cause, err, timeoutMs, this.limitHit?.message);
    this.log.info("run did not succeed", { status, reason });
    this.runLog.note(`run ${status} (${reason}): ${message}`);
    let output: Output = {};
    // Partial work is committed too: the reviewer sees what the agent got to.
    if (this.lease.lost) throw new LeaseGoneError();
    // A merge left with conflict markers is not work to keep: the branch stays where it was.
    if (this.worktree && this.engineStarted && reason !== "conflicts_unresolved") {
      try {
        const changes = await this.collectChanges(this.worktree, commitMessage(this.lastSummary, `agentboard: partial work of run ${this.runId} (${reason})`));
        output = this.changesOutput(changes);
      } catch (e) {
        this.runLog.note(`could not collect the partial work: ${errorMessage(e)}`);
      }
    }
    if (status === "failed" && this.worktree) {
      await this.hooksOf("error", this.leaseGone.signal, false, {
        AGENTBOARD_RUN_STATUS: "failed",
        AGENTBOARD_ERROR_REASON: reason,
        AGENTBOARD_ERROR: message.slice(0, 4_000),
      });
    }
    return {
      status,
      output: { ...output, logs: this.runLog.toString(), worktreePath: this.worktree?.path, ...this.conversationOutput() },
      metrics: this.metrics(null),
      error: { message: message.slice(0, 10_000), reason },
    };
  }

  // ── reporting ────────────────────────────────────────────────────────────────────

  /**
   * The report and the events not yet taken go into the outbox first, then to the server,
   * retried until it takes them or says the lease is gone; a runner stopped meanwhile
   * sends them when it starts next (outbox.ts).
   */
  private async deliver(report: Report): Promise<RunOutcome> {
    const events = await this.batcher.takePending();
    if (this.lease.refused) return this.silenced();
    this.reporting = true;
    const entry = { server: this.deps.config.server, runId: this.runId, leaseToken: this.claim.leaseToken, events, report };
    this.deps.outbox.put(entry);
    const delivery = await deliverEntry(this.deps.client, entry, { signal: this.deps.delivering, log: this.log, outbox: this.deps.outbox });
    if (delivery.kind !== "pending") this.deps.outbox.remove(this.runId);
    if (delivery.kind === "delivered") return { kind: "reported", status: delivery.status, reason: delivery.reason };
    if (delivery.kind === "lease_lost") return this.silenced();
    return { kind: "unreported", error: `the report is kept in ${this.deps.outbox.dir} and is sent when the runner starts next` };
  }

  /** What a follow-up resumes: the engine's transcript (when it fits) and session id. */
  private conversationOutput(): Pick<Output, "transcript" | "sessionId" | "model"> {
    const out: Pick<Output, "transcript" | "sessionId" | "model"> = {};
    if (this.sessionId) out.sessionId = this.sessionId;
    if (this.modelUsed) out.model = this.modelUsed;
    if (this.transcript) {
      const text = JSON.stringify(this.transcript);
      if (text.length <= TRANSCRIPT_MAX_CHARS) out.transcript = JSON.parse(text) as NonNullable<Output["transcript"]>;
      else this.runLog.note(`the conversation (${text.length} characters) is too large to keep; a follow-up starts from the thread's summary`);
    }
    return out;
  }

  private metrics(result: EngineResult | null): Report["metrics"] {
    const m = result ?? this.usage;
    return {
      tokensIn: m.tokensIn,
      tokensOut: m.tokensOut,
      costUsd: m.costUsd,
      toolCalls: m.toolCalls,
      durationMs: this.startedAt === null ? undefined : Date.now() - this.startedAt,
    };
  }

  /** A call under the lease: transient failures retried until the lease runs out. */
  private guarded<T>(call: () => Promise<T>): Promise<T> {
    return callUnderLease(this.lease, call, {
      signal: this.leaseGone.signal,
      onRetry: (err) => this.log.warn("server call failed; retrying", { error: errorMessage(err) }),
    });
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────

  private throwIfStopped(): void {
    if (this.lease.lost) throw new LeaseGoneError();
    if (this.agentStop.signal.aborted) throw new StoppedError(this.cause ?? "stopped");
  }

  private emit(type: string, payload: object): void {
    this.batcher.push(outgoing(type, payload));
  }

  // ── the sandbox ──────────────────────────────────────────────────────────────────

  /** The project's policy; a confined one needs this runner's sandbox to work. */
  private sandboxPolicy(): SandboxPolicy {
    let policy: SandboxPolicy;
    try {
      policy = parsePolicy(this.claim.project.sandbox);
    } catch (err) {
      throw new RunFailure("invalid_sandbox_policy", `the project's sandbox policy is malformed: ${errorMessage(err)}`);
    }
    const support = this.deps.sandbox.support;
    if (!policy.unconfined && !support.available) {
      throw new RunFailure(
        "sandbox_unavailable",
        `this runner cannot confine the run's processes (${support.reason ?? "no sandbox"}) and the project requires its sandbox`,
      );
    }
    return policy;
  }

  private openSandbox(wt: PreparedWorktree, policy: SandboxPolicy): void {
    const { run } = this.claim;
    const { config } = this.deps;
    this.box = this.deps.sandbox.openRun({
      runId: run.id,
      projectId: run.projectId,
      checkout: wt.path,
      readOnly: wt.objectDirs,
      policy,
      source: this.deps.baseEnv,
      facts: {
        AGENTBOARD_RUN_ID: run.id,
        AGENTBOARD_PROJECT_ID: run.projectId,
        AGENTBOARD_BRANCH: run.branch,
        AGENTBOARD_BASE_BRANCH: run.baseBranch,
        AGENTBOARD_WORKTREE: wt.path,
        AGENTBOARD_BASE_COMMIT: wt.baseCommit,
      },
      model: config.anthropicApiKey ? { apiKey: config.anthropicApiKey, baseURL: config.anthropicBaseUrl ?? "https://api.anthropic.com" } : null,
      onLimit: (hit, phase) => this.onLimit(hit, phase),
      onNetwork: (d, phase) => this.onNetwork(d, phase),
    });
    const description = this.box.describe();
    this.emit("runner.sandbox", description);
    if (description.confined) {
      const limits = Object.entries(description.limits)
        .map(([k, v]) => `${k} ${v.value ?? "-"} (${v.enforcedBy})`)
        .join(", ");
      this.runLog.note(
        `sandbox: confined as ${description.user}; network ${Object.entries(description.network)
          .map(([p, m]) => `${p} ${m}`)
          .join(", ")}; limits ${limits}`,
      );
    } else {
      this.runLog.note("UNCONFINED: the project runs without a sandbox (an admin's choice); its processes have the runner's rights");
    }
  }

  private onLimit(hit: LimitHit, phase: Phase | "collect"): void {
    this.emit("sandbox.limit", { ...hit, phase });
    this.runLog.note(`sandbox limit (${phase}): ${hit.message}`);
    if (this.limitHit) return;
    this.limitHit = hit;
    this.stop("sandbox_limit");
  }

  private onNetwork(d: EgressDecision, phase: Phase | "collect"): void {
    // Refusals are what a reviewer needs to see; allowed connections would flood the log.
    if (d.allowed) return;
    this.emit("sandbox.network", { host: d.host, port: d.port, allowed: false, reason: d.detail, phase });
    this.runLog.note(`network (${phase}): ${d.host}:${d.port} refused: ${d.detail}`);
  }

  private sandboxOf(): RunSandbox {
    if (!this.box) throw new Error("the run's sandbox is not open");
    return this.box;
  }

  private async closeSandbox(): Promise<void> {
    try {
      await this.box?.close();
      if (this.worktree?.ownClone) await rm(this.worktree.ownClone, { recursive: true, force: true });
    } catch (err) {
      this.log.warn("could not clean up the run's sandbox", { error: errorMessage(err) });
    }
  }

  private shellOptions(phase: Phase, signal: AbortSignal, extraEnv: Record<string, string> = {}): ShellOptions {
    return {
      starter: this.sandboxOf().starter(phase),
      env: extraEnv,
      timeoutMs: this.deps.config.hookTimeoutMs,
      signal,
      killGraceMs: this.deps.config.killGraceMs,
      onOutput: (_stream, text) => this.runLog.raw(text),
    };
  }

  private shell(command: string, phase: Phase, signal: AbortSignal): Promise<ShellResult> {
    return runShell(command, this.shellOptions(phase, signal));
  }

  private async hooksOf(kind: HookKind, signal: AbortSignal, stopOnFailure: boolean, env: Record<string, string> = {}): Promise<ShellResult[]> {
    const commands = this.hooks[kind];
    if (commands.length === 0 || !this.box) return [];
    return runHooks(kind, commands, {
      ...this.shellOptions("hooks", signal, env),
      stopOnFailure,
      onResult: (k, index, r) => {
        this.emit("hook.result", { kind: k, index, ...shellPayload(r) });
        this.runLog.note(`${k} hook ${index + 1} ${describeExit(r)}`);
      },
    });
  }
}
