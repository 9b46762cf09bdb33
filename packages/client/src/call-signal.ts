import type { TRPCLink } from "@trpc/client";
import { observable } from "@trpc/server/observable";
import type { AnyRouter } from "@trpc/server";

/**
 * Gives every call its own abort signal, following the caller's for as long as the call
 * lasts. tRPC's links listen on the signal a call is given and never stop listening, so a
 * long-lived signal passed to call after call (a runner's stop signal on every claim)
 * would gather one listener per call for the life of the process.
 */
export function callSignalLink<TRouter extends AnyRouter>(): TRPCLink<TRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        const parent = op.signal;
        if (!parent) return next(op).subscribe(observer);
        const own = new AbortController();
        const abort = () => own.abort(parent.reason);
        if (parent.aborted) abort();
        else parent.addEventListener("abort", abort, { once: true });
        const subscription = next({ ...op, signal: own.signal }).subscribe(observer);
        return () => {
          parent.removeEventListener("abort", abort);
          subscription.unsubscribe();
        };
      });
}
