/** Calls to the server made while holding a lease: transient failures are retried, LEASE_LOST never. */
import { errorReason, isAgentboardError } from "@agentboard/client";

/** No answer at all (connection refused, reset, timeout) or the server's own failure. */
export function isTransient(err: unknown): boolean {
  if (!isAgentboardError(err)) return false;
  const reason = errorReason(err);
  return reason === undefined || reason === "INTERNAL_SERVER_ERROR" || reason === "RUN_LOCKED";
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export class LeaseGoneError extends Error {
  override readonly name = "LeaseGoneError";
}

export interface LeaseGuard {
  readonly lost: boolean;
  markLost(why: string): void;
}

/**
 * A call made under a run's lease: transient failures are retried (with backoff) until
 * the lease runs out; LEASE_LOST marks the lease lost. Either way a lost lease ends in
 * LeaseGoneError, so the caller writes nothing more.
 */
export async function callUnderLease<T>(lease: LeaseGuard, call: () => Promise<T>, opts: { signal: AbortSignal; onRetry(err: unknown): void }): Promise<T> {
  let backoff = 250;
  for (;;) {
    if (lease.lost) throw new LeaseGoneError();
    try {
      return await call();
    } catch (err) {
      if (errorReason(err) === "LEASE_LOST") {
        lease.markLost("the server refused the lease");
        throw new LeaseGoneError();
      }
      if (!isTransient(err)) throw err;
      opts.onRetry(err);
      await sleep(backoff, opts.signal);
      backoff = Math.min(backoff * 2, 2_000);
    }
  }
}
