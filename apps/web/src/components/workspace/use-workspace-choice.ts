"use client";

import { useCallback, useEffect, useState } from "react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";

const STORAGE_KEY = "agentboard:workspace";

/** The last workspace the person worked in, so the runners and worktrees pages open on it. */
export function rememberWorkspace(id: string) {
  try {
    window.localStorage.setItem(STORAGE_KEY, id);
  } catch {
    // Private modes may refuse storage; the choice is a convenience only.
  }
}

function remembered(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/**
 * The workspace a per-workspace page shows: `?workspace=` if given, else the remembered
 * one, else the first the session can see.
 */
export function useWorkspaceChoice() {
  const trpc = useTRPC();
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const workspaces = useQuery(trpc.workspace.list.queryOptions());
  const fromUrl = params.get("workspace");
  const [stored, setStored] = useState<string | null>(null);
  useEffect(() => setStored(remembered()), []);

  const list = workspaces.data ?? [];
  const chosen = list.find((w) => w.id === fromUrl) ?? list.find((w) => w.id === stored) ?? list[0];

  const choose = useCallback(
    (id: string) => {
      rememberWorkspace(id);
      router.replace(`${pathname}?workspace=${encodeURIComponent(id)}`);
    },
    [router, pathname],
  );
  return { workspaces, chosen, choose };
}
