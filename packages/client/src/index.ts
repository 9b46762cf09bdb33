import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink, TRPCClientError, type TRPCClient } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { EventSource } from "eventsource";
import superjson from "superjson";
import type { AppRouter, ErrorReason } from "@agentboard/api";
import { callSignalLink } from "./call-signal.js";
import { requestFetch } from "./transport.js";

/** Text as the server stores it (NUL and unpaired surrogates become U+FFFD): for what a program sends. */
export { storableText, REPLACEMENT_CHARACTER } from "@agentboard/text";

export type { AppRouter, ErrorReason };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type AgentboardClient = TRPCClient<AppRouter>;

export interface AgentboardClientOptions {
  /** The server's base URL, e.g. http://127.0.0.1:3000 (the API lives at /api/trpc). */
  url: string;
  /** An API token (`Authorization: Bearer …`). */
  token: string;
  /** Custom fetch (tests, proxies); used for subscriptions and for every other call. */
  fetch?: typeof globalThis.fetch;
}

/**
 * The typed client of the whole agentboard API, for Node 20 (runners, the CLI, scripts;
 * the web app has its own links): superjson, subscriptions over server-sent events,
 * queries batched, and mutations sent one request each — the runner protocol is
 * mutations, and a long-polling claim must never hold up a heartbeat in a shared batch.
 */
export function createAgentboardClient(opts: AgentboardClientOptions): AgentboardClient {
  const url = `${opts.url.replace(/\/+$/, "")}/api/trpc`;
  const authorization = `Bearer ${opts.token}`;
  const baseFetch = opts.fetch ?? globalThis.fetch;
  const callFetch = opts.fetch ?? requestFetch;
  return createTRPCClient<AppRouter>({
    links: [
      callSignalLink(),
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url,
          transformer: superjson,
          EventSource,
          eventSourceOptions: () => ({
            fetch: (input, init) => baseFetch(input, { ...init, headers: { ...init?.headers, authorization } }),
          }),
        }),
        false: splitLink({
          condition: (op) => op.type === "mutation",
          true: httpLink({ url, transformer: superjson, fetch: callFetch, headers: () => ({ authorization }) }),
          false: httpBatchLink({ url, transformer: superjson, fetch: callFetch, headers: () => ({ authorization }) }),
        }),
      }),
    ],
  });
}

/** The machine-readable reason of an API error (`CONFLICT` → `LEASE_LOST`, …). */
export function errorReason(err: unknown): ErrorReason | string | undefined {
  if (err instanceof TRPCClientError) {
    const data = err.data as { reason?: string } | undefined;
    return data?.reason;
  }
  return undefined;
}

export function isAgentboardError(err: unknown): err is TRPCClientError<AppRouter> {
  return err instanceof TRPCClientError;
}
