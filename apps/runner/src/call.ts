/** Calls to the server made while holding a lease: transient failures are retried, LEASE_LOST never. */
import { errorReason } from "@agentboard/client";

/** No answer at all (connection refused, reset, timeout) or the server's own failure. */
export function isTransient(err: unknown): boolean {
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
