"use client";

import { useState, type ReactNode } from "react";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchStreamLink, httpSubscriptionLink, splitLink, TRPCClientError } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import superjson from "superjson";
import type { AppRouter } from "@agentboard/api";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** Same origin: the custom server mounts the API beside the pages, the cookie rides along. */
const API_PATH = "/api/trpc";

function apiUrl(): string {
  // Query functions only run in the browser; the origin matters for the server render only.
  return typeof window === "undefined" ? `http://127.0.0.1${API_PATH}` : API_PATH;
}

function isUnauthorized(err: unknown): boolean {
  return err instanceof TRPCClientError && (err.data as { code?: string } | undefined)?.code === "UNAUTHORIZED";
}

/** A revoked or expired session sends the browser back to sign in, whatever it was doing. */
function onAnyError(err: unknown) {
  if (isUnauthorized(err) && typeof window !== "undefined" && !["/login", "/setup", "/invite"].some((p) => window.location.pathname.startsWith(p))) {
    window.location.assign("/login?error=expired");
  }
}

function makeQueryClient() {
  return new QueryClient({
    queryCache: new QueryCache({ onError: onAnyError }),
    mutationCache: new MutationCache({ onError: onAnyError }),
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        retry: (count, err) =>
          !isUnauthorized(err) && !(err instanceof TRPCClientError && (err.data as { httpStatus?: number } | undefined)?.httpStatus === 404) && count < 2,
      },
    },
  });
}

export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === "subscription",
          true: httpSubscriptionLink({ url: apiUrl(), transformer: superjson }),
          false: httpBatchStreamLink({ url: apiUrl(), transformer: superjson }),
        }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
