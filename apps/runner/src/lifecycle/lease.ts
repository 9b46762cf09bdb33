/**
 * Holding a run's lease: a jittered heartbeat that extends it and brings back cancel
 * requests, and a local deadline. The deadline is measured on this machine's clock from
 * when each successful heartbeat was *sent* (the server extended the lease after that),
 * so clock skew between runner and server does not matter. When it passes without a
 * heartbeat getting through, the server has (or soon will have) given the run up: the
 * runner must stop the agent and write nothing more.
 */
import { errorReason, type AgentboardClient } from "@agentboard/client";
import { errorMessage, type Logger } from "../output/log.js";

export interface LeaseOptions {
  client: AgentboardClient;
  runId: string;
  leaseToken: string;
  /** Lease length granted by the server. */
  leaseMs: number;
  /** Local time until which the lease is known to hold. */
  heldUntil: number;
  heartbeatMs: number;
  /** Give up this long before the lease would run out (latency, a slow reaper is not a promise). */
  graceMs: number;
  onCancelRequested(): void;
  onLost(why: string): void;
  log: Logger;
}

export function isLeaseLost(err: unknown): boolean {
  return errorReason(err) === "LEASE_LOST";
}

export class Lease {
  private heldUntil: number;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lostWhy: string | null = null;
  private refusedByServer = false;
  private readonly intervalMs: number;
  private readonly graceMs: number;

  constructor(private readonly opts: LeaseOptions) {
    this.heldUntil = opts.heldUntil;
    // Three heartbeats per lease at least, so one lost request never costs the run.
    this.intervalMs = Math.max(50, Math.min(opts.heartbeatMs, Math.floor(opts.leaseMs / 3)));
    this.graceMs = Math.min(opts.graceMs, Math.floor(opts.leaseMs / 4));
  }

  get lost(): boolean {
    return this.lostWhy !== null;
  }

  /**
   * The server itself said the lease is gone (LEASE_LOST). Only then is it definitive: a
   * lease that ran out here because no heartbeat got through may still hold there, and a
   * finished run's report is still worth delivering (output/outbox.ts).
   */
  get refused(): boolean {
    return this.refusedByServer;
  }

  start(): void {
    this.armDeadline();
    this.scheduleBeat(this.jittered());
  }

  stop(): void {
    this.stopped = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
  }

  /** Called by anyone whose call was refused with LEASE_LOST (`refused`), and by the local deadline. */
  markLost(why: string, refused = false): void {
    if (refused) this.refusedByServer = true;
    if (this.lostWhy !== null) return;
    this.lostWhy = why;
    this.stop();
    this.opts.onLost(why);
  }

  private jittered(): number {
    return Math.round(this.intervalMs * (0.8 + Math.random() * 0.4));
  }

  private scheduleBeat(delay: number): void {
    if (this.stopped) return;
    this.heartbeatTimer = setTimeout(() => void this.beat(), delay);
  }

  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    const ms = Math.max(0, this.heldUntil - this.graceMs - Date.now());
    this.deadlineTimer = setTimeout(() => this.markLost("no heartbeat got through for a whole lease"), ms);
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    const sentAt = Date.now();
    try {
      const answer = await this.opts.client.run.heartbeat.mutate(
        { runId: this.opts.runId, leaseToken: this.opts.leaseToken },
        // A request stuck in a dead connection must not delay the next attempt.
        { signal: AbortSignal.timeout(Math.max(1_000, this.intervalMs)) },
      );
      if (this.stopped) return;
      this.heldUntil = Math.max(this.heldUntil, sentAt + this.opts.leaseMs);
      this.armDeadline();
      if (answer.cancelRequested) this.opts.onCancelRequested();
      this.scheduleBeat(this.jittered());
    } catch (err) {
      if (this.stopped) return;
      if (isLeaseLost(err)) {
        this.markLost("the server refused the lease (expired, reclaimed or finished)", true);
        return;
      }
      this.opts.log.warn("heartbeat failed; retrying", { error: errorMessage(err) });
      this.scheduleBeat(Math.min(this.intervalMs, 1_000));
    }
  }
}
