"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import type { Session } from "@/lib/roles";

/** Who the session cookie belongs to; the UI offers what this role may do. */
export function useSession(): { session: Session | undefined; isLoading: boolean } {
  const trpc = useTRPC();
  const q = useQuery(trpc.token.whoami.queryOptions(undefined, { staleTime: 60_000 }));
  return { session: q.data, isLoading: q.isLoading };
}
