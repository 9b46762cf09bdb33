/**
 * What the steps of one claimed run share (execute-run.ts runs them in order): the claim, the
 * runner's services, the lease and the two stop signals, the event stream and the run's log,
 * and what each step leaves for the next (the checkout, the sandbox, the engine's usage).
 *
 * Two ways to stop: a *stop* (cancel, timeout, shutdown, a sandbox limit) aborts `agentStop`,
 * interrupting the agent while the run is still reported; a *lost lease* also aborts
 * `leaseGone`: the server has moved on, so everything stops and nothing more is written.
 */
import type { AgentboardClient } from "@agentboard/client";
import type { LimitHit, Phase, RunSandbox, SandboxHost } from "@agentboard/sandbox";
import { type HookKind, type ProjectHooks, runHooks } from "../checks/hooks.js";
import type { RunnerConfig } from "../config.js";
import { formatDuration } from "../duration.js";
import { EngineError } from "../engines/types.js";
import { callUnderLease, isTransient, LeaseGoneError } from "../lifecycle/call.js";
import { isLeaseLost, Lease } from "../lifecycle/lease.js";
import { EventBatcher } from "../output/event-batcher.js";
import { outgoing } from "../output/event-payload.js";
import { errorMessage, type Logger } from "../output/log.js";
import type { Outbox } from "../output/outbox.js";
import { RunLog } from "../output/run-log.js";
import { describeExit, runShell, type ShellOptions, type ShellResult, shellPayload } from "../process/shell.js";
import type { Claim, CompleteInput, ResumeContext, RunnerObserver, RunOutcome, StopCause } from "../types.js";
import type { PreparedWorktree } from "../workspace/prepare-worktree.js";
import { ApprovalGate } from "./approval-gate.js";
import { RunInbox } from "./inbox.js";
import type { PausableTimer } from "./pausable-timer.js";

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

export type Report = Omit<CompleteInput, "runId" | "leaseToken">;
export type Output = NonNullable<Report["output"]>;

const DEFAULT_LEASE_MS = 30_000;

class StoppedError extends Error {
  override readonly name = "StoppedError";
}

export class RunContext {
  readonly runId: string;
  /** Aborted by any stop: the agent and every command of the run end. */
  readonly agentStop = new AbortController();
  /** Aborted only when the lease is lost: even reporting hooks end. */
  readonly leaseGone = new AbortController();
  cause: StopCause | null = null;
  lostWhy = "lease lost";
  readonly lease: Lease;
  readonly batcher: EventBatcher;
  readonly runLog = new RunLog();
  readonly log: Logger;
  readonly approvals: ApprovalGate;
  readonly inbox = new RunInbox();
  /** The agent's timeout; paused while it waits for an approval. */
  agentTimer: PausableTimer | null = null;
  worktree: PreparedWorktree | null = null;
  box: RunSandbox | null = null;
  limitHit: LimitHit | null = null;
  hooks: ProjectHooks = { pre: [], post: [], error: [] };
  engineStarted = false;
  /** Set once run.complete is under way: from then on our own final event is expected on the stream. */
  reporting = false;
  startedAt: number | null = null;
  lastSummary = "";
  /** A follow-up's start (the server's run.resumeContext). */
  resume: ResumeContext | null = null;
  transcript: unknown[] | null = null;
  sessionId: string | null = null;
  /** The model the engine said it used: recorded on a run that named none (the default applied). */
  modelUsed: string | null = null;
  /** A resolve-conflicts run: the files the merge of the base left conflicting. */
  conflicts: string[] = [];
  readonly usage = { tokensIn: 0, tokensOut: 0, costUsd: 0, toolCalls: 0 };

  constructor(
    readonly claim: Claim,
    readonly deps: ExecuteDeps,
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

  /** The outcome of a run whose lease was lost: nothing was (or will be) reported. */
  silenced(): RunOutcome {
    return { kind: "lease_lost", why: this.lostWhy };
  }

  /** A call under the lease: transient failures retried until the lease runs out. */
  guarded<T>(call: () => Promise<T>): Promise<T> {
    return callUnderLease(this.lease, call, {
      signal: this.leaseGone.signal,
      onRetry: (err) => this.log.warn("server call failed; retrying", { error: errorMessage(err) }),
    });
  }

  throwIfStopped(): void {
    if (this.lease.lost) throw new LeaseGoneError();
    if (this.agentStop.signal.aborted) throw new StoppedError(this.cause ?? "stopped");
  }

  emit(type: string, payload: object): void {
    this.batcher.push(outgoing(type, payload));
  }

  sandboxOf(): RunSandbox {
    if (!this.box) throw new Error("the run's sandbox is not open");
    return this.box;
  }

  shellOptions(phase: Phase, signal: AbortSignal, extraEnv: Record<string, string> = {}): ShellOptions {
    return {
      starter: this.sandboxOf().starter(phase),
      env: extraEnv,
      timeoutMs: this.deps.config.hookTimeoutMs,
      signal,
      killGraceMs: this.deps.config.killGraceMs,
      onOutput: (_stream, text) => this.runLog.raw(text),
    };
  }

  shell(command: string, phase: Phase, signal: AbortSignal): Promise<ShellResult> {
    return runShell(command, this.shellOptions(phase, signal));
  }

  async hooksOf(kind: HookKind, signal: AbortSignal, stopOnFailure: boolean, env: Record<string, string> = {}): Promise<ShellResult[]> {
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
