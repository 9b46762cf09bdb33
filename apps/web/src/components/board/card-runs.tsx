"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import { formatCost, formatDuration, timeAgo } from "@/lib/format";
import { StatusBadge } from "@/components/ui/status-badge";
import { ErrorState, Spinner } from "@/components/ui/states";
import { useBoardInfo } from "./board-context";

/** The card's latest runs; the card list keeps it current (its status patches the card). */
export function CardRuns({ cardId }: { cardId: string }) {
  const trpc = useTRPC();
  const { workspaceId } = useBoardInfo();
  const runs = useQuery(trpc.run.list.queryOptions({ workspaceId, cardId, limit: 10 }, { refetchInterval: 5_000 }));
  if (runs.isLoading) return <Spinner label="Loading runs" />;
  if (runs.error) return <ErrorState error={runs.error} retry={() => void runs.refetch()} />;
  const items = runs.data?.items ?? [];
  if (items.length === 0) return <p className="text-sm text-zinc-500">No runs yet.</p>;
  return (
    <ul className="divide-y divide-zinc-100 rounded-lg ring-1 ring-zinc-200 dark:divide-zinc-800 dark:ring-zinc-800">
      {items.map((r) => (
        <li key={r.id}>
          <Link href={`/runs/${r.id}`} className="flex items-center gap-3 px-3 py-2 text-sm hover:bg-zinc-50 dark:hover:bg-zinc-800/60" data-testid="card-run-link">
            <StatusBadge status={r.status} />
            <span className="text-zinc-600 dark:text-zinc-300">{r.engine}</span>
            {r.model ? <span className="text-xs text-zinc-500">{r.model}</span> : null}
            <span className="ml-auto text-xs text-zinc-500">
              {formatDuration(r.durationMs)} · {formatCost(r.costUsd)} · {timeAgo(r.createdAt)}
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}
