import { EngineError } from "./types.js";

/**
 * The EngineError for an aborted signal. The runner may abort with a reason: an
 * EngineError is passed through as is, a TimeoutError (AbortSignal.timeout) becomes
 * "timeout", anything else is a cancel.
 */
export function abortError(signal: AbortSignal): EngineError {
  const reason: unknown = signal.reason;
  if (reason instanceof EngineError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") return new EngineError("timeout", "run timed out");
  return new EngineError("cancelled", "run cancelled");
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}
