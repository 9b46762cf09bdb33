"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import type { RouterOutputs } from "@/trpc/types";
import { formatCost, formatTokens, timeAgo } from "@/lib/format";
import { StatusBadge } from "@/components/ui/status-badge";
import { ErrorState, Spinner } from "@/components/ui/states";
import { cn } from "@/components/ui/cn";

type Thread = RouterOutputs["run"]["thread"]["threads"][number];

const KIND: Record<Thread["runs"][number]["kind"], string> = {
  run: "first run",
  follow_up: "follow-up",
  retry: "re-run",
  resolve_conflicts: "resolve conflicts",
};

/** Polled: a follow-up made in another browser shows up within seconds. */
const REFRESH_MS = 2_000;

/** A card's threads of runs: each run's status, who asked for it and why; the thread's tokens and cost. */
export function CardThreads({ cardId, currentRunId }: { cardId: string; currentRunId?: string }) {
  const trpc = useTRPC();
  const threads = useQuery(trpc.run.thread.queryOptions({ cardId }, { refetchInterval: REFRESH_MS }));
  if (threads.isLoading) return <Spinner label="Loading the thread" />;
  if (threads.error) return <ErrorState error={threads.error} retry={() => void threads.refetch()} />;
  const data = threads.data;
  if (!data || data.threads.length === 0) return <p className="text-sm text-zinc-500">No runs yet.</p>;
  return (
    <div className="space-y-3" data-testid="card-threads">
      {data.budgetUsd !== null ? (
        <p className="text-xs text-zinc-500" data-testid="card-budget">
          Card budget: {formatCost(data.spentUsd)} of {formatCost(data.budgetUsd)}
        </p>
      ) : null}
      {data.threads.map((t) => (
        <ThreadView key={t.branch} thread={t} currentRunId={currentRunId} />
      ))}
    </div>
  );
}

function ThreadView({ thread, currentRunId }: { thread: Thread; currentRunId?: string }) {
  return (
    <section
      aria-label={`Thread on ${thread.branch}`}
      className="rounded-lg ring-1 ring-zinc-200 dark:ring-zinc-800"
      data-testid="thread"
      data-branch={thread.branch}
    >
      <header className="flex flex-wrap gap-2 border-b border-zinc-100 px-3 py-1.5 text-xs text-zinc-500 dark:border-zinc-800">
        <code className="truncate">{thread.branch}</code>
        <span className="ml-auto" data-testid="thread-totals">
          {thread.runs.length} run{thread.runs.length === 1 ? "" : "s"} · {formatTokens(thread.tokensIn + thread.tokensOut)} tokens ·{" "}
          {formatCost(thread.costUsd)}
        </span>
      </header>
      <ol className="divide-y divide-zinc-100 dark:divide-zinc-800">
        {thread.runs.map((r) => (
          <li
            key={r.id}
            data-testid="thread-run"
            data-run-id={r.id}
            data-kind={r.kind}
            data-status={r.status}
            data-superseded={r.id !== thread.headRunId ? "true" : undefined}
          >
            <Link
              href={`/runs/${r.id}`}
              className={cn("block px-3 py-2 text-xs hover:bg-zinc-50 dark:hover:bg-zinc-800/60", r.id === currentRunId && "bg-sky-50 dark:bg-sky-950/40")}
              aria-current={r.id === currentRunId ? "page" : undefined}
              data-testid="card-run-link"
            >
              <span className="flex items-center gap-2">
                <StatusBadge status={r.status} />
                <span className="font-medium">{KIND[r.kind]}</span>
                {r.id !== thread.headRunId ? (
                  <span
                    className="rounded bg-zinc-100 px-1 text-[10px] text-zinc-500 dark:bg-zinc-800"
                    title="A later run of this thread continues it: only the latest run is continued or merged"
                  >
                    superseded
                  </span>
                ) : null}
                <span className="text-zinc-500">by {r.createdBy ?? "?"}</span>
                <span className="ml-auto text-zinc-500">
                  {formatCost(r.costUsd)} · {timeAgo(r.createdAt)}
                </span>
              </span>
              <span className="mt-1 line-clamp-2 block whitespace-pre-wrap text-zinc-600 dark:text-zinc-300">{r.prompt}</span>
            </Link>
          </li>
        ))}
      </ol>
    </section>
  );
}
