/** Calls to the server made while holding a lease: transient failures are retried, LEASE_LOST never. */
import { errorReason, isAgentboardError } from "@agentboard/client";

/**
 * A server failure without a reason (INTERNAL_SERVER_ERROR) may be one the request itself
 * causes every time: it is retried this many times, then taken as a refusal. Failures that
 * say they pass (RETRYABLE, RUN_LOCKED) and requests that got no answer are retried for as
 * long as the lease holds.
 */
export const SERVER_FAILURE_ATTEMPTS = 3;

/** No answer at all (connection refused, reset, timeout, a proxy's page) or the server said: call again. */
export function isRetryable(err: unknown): boolean {
  if (!isAgentboardError(err)) return false;
  const reason = errorReason(err);
  return reason === undefined || reason === "RETRYABLE" || reason === "RUN_LOCKED";
}

/**
 * Whether attempt number `attempt` (1-based) of a request that failed with `err` is worth
 * repeating: always for a retryable failure, a few times for a bare server failure, never
 * for a refusal (BAD_REQUEST, PAYLOAD_TOO_LARGE, …), which the same request gets again.
 */
export function isTransient(err: unknown, attempt = 1): boolean {
  if (isRetryable(err)) return true;
  return errorReason(err) === "INTERNAL_SERVER_ERROR" && attempt < SERVER_FAILURE_ATTEMPTS;
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
  /** `refused`: the server said LEASE_LOST (not only that no heartbeat got through). */
  markLost(why: string, refused?: boolean): void;
}

/**
 * A call made under a run's lease: transient failures are retried (with backoff) until
 * the lease runs out; LEASE_LOST marks the lease lost. Either way a lost lease ends in
 * LeaseGoneError, so the caller writes nothing more.
 */
export async function callUnderLease<T>(lease: LeaseGuard, call: () => Promise<T>, opts: { signal: AbortSignal; onRetry(err: unknown): void }): Promise<T> {
  let backoff = 250;
  for (let attempt = 1; ; attempt++) {
    if (lease.lost) throw new LeaseGoneError();
    try {
      return await call();
    } catch (err) {
      if (errorReason(err) === "LEASE_LOST") {
        lease.markLost("the server refused the lease", true);
        throw new LeaseGoneError();
      }
      if (!isTransient(err, attempt)) throw err;
      opts.onRetry(err);
      await sleep(backoff, opts.signal);
      backoff = Math.min(backoff * 2, 2_000);
    }
  }
}
