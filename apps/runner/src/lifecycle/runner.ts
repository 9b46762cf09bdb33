/**
 * The runner: long-polls `run.claim` while it has a free slot (at most `concurrency`
 * runs at once), executes each claim (run/execute-run.ts), sweeps stale worktrees, and shuts
 * down gracefully. It talks to the server only through @agentboard/client.
 */
import path from "node:path";
import { createAgentboardClient, errorReason, type AgentboardClient } from "@agentboard/client";
import { SandboxHost } from "@agentboard/sandbox";
import { isTransient, sleep } from "./call.js";
import type { RunnerConfig } from "../config.js";
import { formatDuration } from "../duration.js";
import { RunExecution } from "../run/execute-run.js";
import { createLogger, errorMessage, type Logger } from "../output/log.js";
import { deliverEntry, Outbox } from "../output/outbox.js";
import { resolveScopes, type ServedWorkspace } from "./scopes.js";
import { sweepWorktrees } from "./sweep.js";
import type { Claim, RunnerObserver } from "../types.js";
import { executeVerification, type VerificationClaim } from "../checks/verify.js";

export interface RunnerOptions {
  config: RunnerConfig;
  /** Custom fetch for the client (proxies; tests that watch or cut the traffic). */
  fetch?: typeof globalThis.fetch;
  log?: Logger;
  /**
   * The runner's environment: where bwrap and socat are looked for (PATH), and what the
   * locale and the secrets projects declare are read from. Children never inherit it.
   */
  baseEnv?: NodeJS.ProcessEnv;
  observer?: RunnerObserver;
}

/** The server's limit on the scopes of one claim. */
const MAX_SCOPES_PER_CLAIM = 500;
/** How often a runner that serves every workspace looks for new ones. */
const SCOPE_REFRESH_MS = 10_000;
/** Sweep again this soon when a worktree's run is still held elsewhere (it may be a dead runner's). */
const RECHECK_SWEEP_MS = 60_000;

export class Runner {
  readonly client: AgentboardClient;
  private readonly config: RunnerConfig;
  private readonly log: Logger;
  private readonly observer: RunnerObserver;
  private readonly baseEnv: NodeJS.ProcessEnv;
  private readonly active = new Map<string, RunExecution>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private scopes: ServedWorkspace[] = [];
  private followsAll = false;
  private scopesReadAt = 0;
  private nextChunk = 0;
  private stopping = false;
  private readonly claimAbort = new AbortController();
  private slotFreed: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  /** Merge re-verifications: claimed and run one at a time, beside the runs. */
  private verifyLoop: Promise<void> | null = null;
  private nextVerifyChunk = 0;
  private readonly verifyStop = new AbortController();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private sandboxHost: SandboxHost | null = null;
  private readonly outbox: Outbox;
  /** Ends every delivery attempt still waiting for the server: aborted last on stop (what is left stays in the outbox). */
  private readonly delivering = new AbortController();
  private replaying: Promise<void> | null = null;

  constructor(opts: RunnerOptions) {
    this.config = opts.config;
    this.log = opts.log ?? createLogger({ format: opts.config.logFormat, fields: { runner: opts.config.name } });
    this.observer = opts.observer ?? {};
    this.baseEnv = opts.baseEnv ?? process.env;
    this.client = createAgentboardClient({ url: opts.config.server, token: opts.config.token, fetch: opts.fetch });
    this.outbox = new Outbox(opts.config.stateDir);
  }

  get activeRuns(): number {
    return this.active.size;
  }

  /** The sandbox every run's processes are confined in (known once started). */
  get sandbox(): SandboxHost {
    if (!this.sandboxHost) throw new Error("the runner has not started");
    return this.sandboxHost;
  }

  /** Checks the sandbox, registers with the server, sweeps once, and starts claiming. */
  async start(): Promise<void> {
    this.sandboxHost = await SandboxHost.create({ stateDir: path.join(this.config.worktreesDir, ".sandbox"), pathVar: this.baseEnv.PATH });
    const support = this.sandboxHost.support;
    if (support.available) this.log.info("sandbox ready", { ...support.limits });
    else this.log.warn("no sandbox: runs of projects that require one will not be claimed", { reason: support.reason ?? "" });
    const set = await this.firstContact();
    this.scopes = set.scopes;
    this.followsAll = set.followsAll;
    this.scopesReadAt = Date.now();
    this.log.info("runner started", {
      server: this.config.server,
      workspaces: this.scopes.map((s) => s.slug).join(",") || "(none yet)",
      concurrency: this.config.concurrency,
      worktrees: this.config.worktreesDir,
    });
    this.scheduleSweep(0);
    this.replaying = this.replayOutbox();
    this.loop = this.claimLoop();
    this.verifyLoop = this.verificationLoop();
  }

  /** Reports a previous process of this runner finished but could not deliver (output/outbox.ts). */
  private async replayOutbox(): Promise<void> {
    const entries = this.outbox.list(this.log).filter((e) => e.server === this.config.server);
    for (const entry of entries) {
      const log = this.log.child({ run: entry.runId });
      log.info("delivering a report kept from before", { status: entry.report.status, events: entry.events.length });
      const delivery = await deliverEntry(this.client, entry, { signal: this.delivering.signal, log, outbox: this.outbox });
      if (delivery.kind !== "pending") this.outbox.remove(entry.runId);
      log.info("kept report", { outcome: delivery.kind });
    }
  }

  /** Reads the scopes, waiting for a server that is not up yet; a refused token fails at once. */
  private async firstContact() {
    let backoff = 500;
    for (;;) {
      try {
        return await resolveScopes(this.client, this.config, [], this.sandbox.support);
      } catch (err) {
        if (!isTransient(err) || this.stopping) throw err;
        this.log.warn("server not reachable; retrying", { server: this.config.server, error: errorMessage(err) });
        await sleep(backoff, this.claimAbort.signal);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  /**
   * Stops claiming, gives running agents `graceMs` to finish, then stops them (reported
   * as failed with reason `runner_shutdown`) and waits for their reports.
   */
  async stop(graceMs = this.config.shutdownGraceMs): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.claimAbort.abort();
      this.slotFreed?.();
      if (this.sweepTimer) clearTimeout(this.sweepTimer);
      this.log.info("runner stopping", { running: this.active.size, grace: formatDuration(graceMs) });
    }
    this.verifyStop.abort();
    await this.loop;
    await this.verifyLoop;
    const all = () => Promise.all([...this.inFlight.values()]).then(() => undefined);
    if (this.active.size > 0) {
      await Promise.race([all(), sleep(graceMs)]);
      for (const run of this.active.values()) run.stop("shutdown");
    }
    // Finished runs deliver their reports; what the server has not taken by then stays in
    // the outbox for the next start.
    await Promise.race([all(), sleep(Math.max(1_000, Math.min(graceMs, 10_000)))]);
    this.delivering.abort();
    await all();
    await this.replaying;
    await this.sweeping;
    await this.sandboxHost?.close();
    this.log.info("runner stopped");
  }

  private async claimLoop(): Promise<void> {
    let backoff = 500;
    while (!this.stopping) {
      if (this.active.size >= this.config.concurrency) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        this.slotFreed = null;
        continue;
      }
      if (this.followsAll && Date.now() - this.scopesReadAt > SCOPE_REFRESH_MS) await this.refreshScopes();
      if (this.scopes.length === 0) {
        await sleep(SCOPE_REFRESH_MS / 6, this.claimAbort.signal);
        this.scopesReadAt = 0;
        continue;
      }
      let claim: Claim | null;
      try {
        claim = await this.claimOnce();
        backoff = 500;
      } catch (err) {
        if (this.stopping) break;
        this.log.warn("claim failed", { workspaces: this.scopes.map((s) => s.slug).join(","), error: errorMessage(err) });
        // A deleted workspace or runner record: read the scopes again.
        if (errorReason(err) === "NOT_FOUND") this.scopesReadAt = 0;
        await sleep(backoff, this.claimAbort.signal);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      if (claim) this.launch(claim, Date.now());
    }
  }

  /**
   * Long-polls `run.claimVerification` and runs each claimed re-verification to its report
   * (checks/verify.ts). A second, lighter queue beside the runs': a merge waiting for its checks
   * should not wait for a free run slot.
   */
  private async verificationLoop(): Promise<void> {
    let backoff = 500;
    while (!this.stopping) {
      if (this.scopes.length === 0) {
        await sleep(SCOPE_REFRESH_MS / 6, this.claimAbort.signal);
        continue;
      }
      // One long-poll over every workspace served (a slice of them past the server's limit).
      const slice = this.scopeSlice(this.nextVerifyChunk++);
      let claim: VerificationClaim | null;
      try {
        claim = await this.client.run.claimVerification.mutate(
          {
            scopes: slice.map((s) => ({ workspaceId: s.workspaceId, runnerId: s.runnerId })),
            labels: this.config.labels,
            waitMs: this.config.claimWaitMs,
            sandbox: this.sandbox.support.available,
          },
          { signal: this.claimAbort.signal },
        );
        backoff = 500;
      } catch (err) {
        if (this.stopping) break;
        this.log.warn("claiming a re-verification failed", { workspaces: slice.map((s) => s.slug).join(","), error: errorMessage(err) });
        await sleep(backoff, this.claimAbort.signal);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      if (!claim) continue;
      this.log.info("claimed re-verification", { run: claim.run.id, verification: claim.verification.id, attempt: claim.verification.attempt });
      try {
        await executeVerification(claim, {
          client: this.client,
          config: this.config,
          log: this.log,
          sandbox: this.sandbox,
          baseEnv: this.baseEnv,
          signal: this.verifyStop.signal,
        });
      } catch (err) {
        this.log.error("re-verification crashed", { run: claim.run.id, error: errorMessage(err) });
      }
    }
  }

  /**
   * One long-poll over every scope the runner serves: the server claims from whichever
   * has a run first, and an enqueue in any of them wakes it at once.
   */
  private claimOnce(): Promise<Claim | null> {
    // Without a working sandbox, only runs of projects an admin made unconfined.
    const common = { waitMs: this.config.claimWaitMs, sandbox: this.sandbox.support.available };
    const opts = { signal: this.claimAbort.signal };
    const [only] = this.scopes;
    if (this.scopes.length === 1 && only) {
      return this.client.run.claim.mutate(
        { workspaceId: only.workspaceId, boardId: this.config.boardId, labels: this.config.labels, runnerId: only.runnerId, ...common },
        opts,
      );
    }
    const scopes = this.scopeSlice(this.nextChunk++).map((s) => ({
      workspaceId: s.workspaceId,
      runnerId: s.runnerId,
      boardId: this.config.boardId,
      labels: this.config.labels,
    }));
    return this.client.run.claim.mutate({ scopes, ...common }, opts);
  }

  /** More scopes than one claim takes: a different slice each time (`turn` counts the claims). */
  private scopeSlice(turn: number): ServedWorkspace[] {
    const chunks = Math.ceil(this.scopes.length / MAX_SCOPES_PER_CLAIM);
    const chunk = turn % chunks;
    return this.scopes.slice(chunk * MAX_SCOPES_PER_CLAIM, (chunk + 1) * MAX_SCOPES_PER_CLAIM);
  }

  private launch(claim: Claim, claimedAt: number): void {
    const { run } = claim;
    this.log.info("claimed run", { run: run.id, engine: run.engine, branch: run.branch, attempt: run.attempt });
    this.observer.onClaimed?.(claim, claimedAt);
    const execution = new RunExecution(
      claim,
      {
        client: this.client,
        config: this.config,
        log: this.log,
        baseEnv: this.baseEnv,
        sandbox: this.sandbox,
        observer: this.observer,
        outbox: this.outbox,
        delivering: this.delivering.signal,
      },
      claimedAt,
    );
    this.active.set(run.id, execution);
    const done = execution
      .execute()
      .then(
        () => undefined,
        (err: unknown) => this.log.error("run crashed", { run: run.id, error: errorMessage(err) }),
      )
      .finally(() => {
        this.active.delete(run.id);
        this.inFlight.delete(run.id);
        this.slotFreed?.();
      });
    this.inFlight.set(run.id, done);
  }

  private async refreshScopes(): Promise<void> {
    try {
      const set = await resolveScopes(this.client, this.config, this.scopes, this.sandbox.support);
      const added = set.scopes.filter((s) => !this.scopes.some((o) => o.workspaceId === s.workspaceId));
      if (added.length > 0) this.log.info("serving new workspaces", { workspaces: added.map((s) => s.slug).join(",") });
      this.scopes = set.scopes;
    } catch (err) {
      this.log.warn("could not read the workspaces", { error: errorMessage(err) });
    }
    this.scopesReadAt = Date.now();
  }

  private scheduleSweep(delayMs: number): void {
    if (this.stopping) return;
    this.sweepTimer = setTimeout(() => {
      this.sweeping = this.sweep().finally(() => (this.sweeping = null));
    }, delayMs);
    this.sweepTimer.unref();
  }

  private async sweep(): Promise<void> {
    let next = this.config.sweepEveryMs;
    try {
      const outcome = await sweepWorktrees({
        client: this.client,
        root: this.config.worktreesDir,
        maxAgeMs: this.config.worktreeMaxAgeMs,
        isActive: (runId) => this.active.has(runId),
        log: this.log,
      });
      if (outcome.recheckSoon) next = Math.min(next, RECHECK_SWEEP_MS);
    } catch (err) {
      this.log.warn("worktree sweep failed", { error: errorMessage(err) });
    }
    this.scheduleSweep(next);
  }
}

/** Builds a runner and starts it. */
export async function startRunner(opts: RunnerOptions): Promise<Runner> {
  const runner = new Runner(opts);
  await runner.start();
  return runner;
}
