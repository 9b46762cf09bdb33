/**
 * Where an engine's tool call waits for a person (docs/runner-protocol.md, "Approvals"):
 * the request goes to the server (`approval.requested`), the answer comes back on the run's
 * event stream, and a request no one answers in time is expired by the runner, which the
 * agent is told as a denial. A stop (cancel, timeout, lost lease) ends the wait at once.
 */
import { randomUUID } from "node:crypto";
import { abortError } from "../engines/abort.js";
import type { ApprovalAnswer, ApprovalAsk } from "../engines/types.js";

export interface HeardAnswer {
  type: string;
  actor: string;
  payload: unknown;
}

export interface ApprovalGateOptions {
  /** Sends the request under this id; resolves once the server has it, with its timeout. */
  send(requestId: string, ask: ApprovalAsk): Promise<{ timeoutMs: number }>;
  /** The wait timed out: expires the request and resolves with how it ended. */
  expire(requestId: string): Promise<{ status: string; decidedBy: string | null; note: string | null }>;
  /** The run's stop: the wait ends with the stop's error. */
  signal: AbortSignal;
  /** True while at least one request waits (the run's timeout does not count that time). */
  onWaiting?(waiting: boolean): void;
}

/** Answers heard before their request's call returned, kept until it does. */
const MAX_EARLY = 100;

export class ApprovalGate {
  private readonly waiters = new Map<string, (answer: Omit<ApprovalAnswer, "timeoutMs">) => void>();
  private readonly early = new Map<string, Omit<ApprovalAnswer, "timeoutMs">>();
  private waiting = 0;

  constructor(private readonly opts: ApprovalGateOptions) {}

  /** An answer from the run's event stream. */
  heard(event: HeardAnswer): void {
    const p = event.payload && typeof event.payload === "object" ? (event.payload as Record<string, unknown>) : {};
    if (typeof p.requestId !== "string") return;
    const decision = event.type === "approval.granted" ? "granted" : event.type === "approval.denied" ? "denied" : "expired";
    const answer = { decision, by: decision === "expired" ? null : event.actor, note: typeof p.note === "string" ? p.note : null } as const;
    const waiter = this.waiters.get(p.requestId);
    if (waiter) {
      waiter(answer);
      return;
    }
    this.early.set(p.requestId, answer);
    if (this.early.size > MAX_EARLY) this.early.delete(this.early.keys().next().value!);
  }

  async ask(ask: ApprovalAsk): Promise<ApprovalAnswer> {
    const { signal } = this.opts;
    if (signal.aborted) throw abortError(signal);
    const requestId = randomUUID();
    this.setWaiting(+1);
    try {
      const { timeoutMs } = await this.opts.send(requestId, ask);
      const answer = await this.answerOf(requestId, timeoutMs);
      return { ...answer, timeoutMs };
    } finally {
      this.waiters.delete(requestId);
      this.early.delete(requestId);
      this.setWaiting(-1);
    }
  }

  private answerOf(requestId: string, timeoutMs: number): Promise<Omit<ApprovalAnswer, "timeoutMs">> {
    const { signal } = this.opts;
    return new Promise((resolve, reject) => {
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onStop);
        this.waiters.delete(requestId);
        fn();
      };
      const onStop = () => settle(() => reject(abortError(signal)));
      // Counted from when the server had the request, so it never ends before the server's deadline.
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        this.opts.expire(requestId).then(
          (r) => {
            const decision = r.status === "granted" ? "granted" : r.status === "denied" ? "denied" : "expired";
            settle(() => resolve({ decision, by: decision === "expired" ? null : r.decidedBy, note: r.note }));
          },
          (err: unknown) => settle(() => reject(signal.aborted ? abortError(signal) : err)),
        );
      }, timeoutMs);
      signal.addEventListener("abort", onStop, { once: true });
      if (signal.aborted) return onStop();
      const early = this.early.get(requestId);
      if (early) return settle(() => resolve(early));
      this.waiters.set(requestId, (answer) => settle(() => resolve(answer)));
    });
  }

  private setWaiting(delta: number): void {
    const before = this.waiting;
    this.waiting += delta;
    if (before === 0 && this.waiting > 0) this.opts.onWaiting?.(true);
    else if (before > 0 && this.waiting === 0) this.opts.onWaiting?.(false);
  }
}
