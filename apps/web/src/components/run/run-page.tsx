"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import type { RunDetail } from "@/trpc/types";
import { isNotFound } from "@/lib/errors";
import { formatDateTime } from "@/lib/format";
import { StatusBadge } from "@/components/ui/status-badge";
import { Empty, ErrorState, Loading } from "@/components/ui/states";
import { cn } from "@/components/ui/cn";
import { DiffViewer } from "./diff-viewer";
import { ApprovalsPanel } from "./approvals-panel";
import { DodPanel } from "./dod-panel";
import { EventLog } from "./event-log";
import { MergePanel } from "./merge-panel";
import { ProvenancePanel } from "./provenance-panel";
import { RunActions } from "./run-actions";
import { RunStats } from "./run-stats";
import { SandboxBadge } from "./sandbox-badge";
import { StatusHistory } from "./status-history";
import { useRunEvents, type RunEvents, type RunEventsState } from "./use-run-events";
import { useSession } from "@/components/session/use-session";
import { can } from "@/lib/roles";
import { FollowUpPanel } from "./follow-up-panel";
import { useDiffReview } from "./review-comments";
import { CardThreads } from "./thread-panel";

export function RunPage({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const run = useQuery(trpc.run.byId.queryOptions({ runId }));
  const live = useRunEvents(runId);
  const { session } = useSession();
  const review = useDiffReview(runId, can(session, "member"));
  const threads = useQuery(trpc.run.thread.queryOptions({ cardId: run.data?.cardId ?? "" }, { enabled: !!run.data, refetchInterval: 2_000 }));

  if (run.error) {
    return (
      <div className="p-6">
        {isNotFound(run.error) ? (
          <Empty title="This run does not exist (or is not yours to see)" />
        ) : (
          <ErrorState error={run.error} retry={() => void run.refetch()} />
        )}
      </div>
    );
  }
  if (!run.data) return <Loading label="Loading the run" />;
  const r = run.data;
  const isHead = threads.data?.threads.some((t) => t.headRunId === r.id) ?? false;
  // A later run of the same thread supersedes this one: it is kept for the record only.
  const supersededBy = threads.data?.threads.find((t) => t.runs.some((x) => x.id === r.id) && t.headRunId !== r.id)?.headRunId ?? null;
  return (
    <div className="mx-auto w-full max-w-7xl space-y-4 px-4 py-6">
      <header className="flex flex-wrap items-start gap-3">
        <div className="min-w-0 flex-1">
          <p className="text-xs text-zinc-500">
            <Link href={`/boards/${r.boardId}`} className="hover:underline">
              Board
            </Link>{" "}
            / run <span className="font-mono">{r.id}</span>
          </p>
          <h1 className="truncate text-xl font-semibold">{r.card.title}</h1>
          <p className="mt-0.5 text-xs text-zinc-500">
            {r.engine}
            {r.model ? ` · ${r.model}` : ""} · branch <code>{r.branch}</code> from <code>{r.baseBranch}</code>
            {r.runner ? ` · runner ${r.runner.name}` : ""} · by {r.createdBy ?? "?"}
          </p>
        </div>
        <div className="flex items-center gap-3">
          <SandboxBadge events={live.milestones} />
          <ConnectionBadge state={live.connection} />
          <span data-testid="run-status">
            <StatusBadge status={r.status} className="px-3 py-1 text-sm" />
          </span>
          <RunActions run={r} />
        </div>
      </header>

      {r.error ? (
        <p role="alert" className="rounded-lg bg-red-50 px-4 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
          {r.errorReason ? <span className="font-mono">{r.errorReason}: </span> : null}
          {r.error}
        </p>
      ) : null}

      {supersededBy ? (
        <p role="note" className="rounded-lg bg-zinc-100 px-4 py-2 text-sm text-zinc-700 dark:bg-zinc-800 dark:text-zinc-200" data-testid="superseded">
          Superseded: a later run of this thread continues it. Only{" "}
          <Link href={`/runs/${supersededBy}`} className="font-medium underline" data-testid="superseded-by">
            the thread&apos;s latest run
          </Link>{" "}
          can be continued or merged; this one is kept for the record.
        </p>
      ) : null}

      <ApprovalsPanel run={r} />

      <RunStats run={r} events={live.events} />

      {/* The review row: what the Definition of Done says, and the merge it gates. */}
      <div className="grid items-start gap-4 lg:grid-cols-[1fr_20rem]">
        <DodPanel run={r} />
        <MergePanel run={r} />
      </div>

      {review.canComment ? <FollowUpPanel run={r} comments={review.comments} isHead={isHead} /> : null}

      <div className="grid gap-4 lg:grid-cols-[1fr_20rem]">
        <LogPanel live={live} />
        <aside className="space-y-4">
          <section aria-labelledby="thread" className="rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
            <h2 id="thread" className="mb-2 text-sm font-semibold">
              Thread
            </h2>
            <CardThreads cardId={r.cardId} currentRunId={r.id} />
          </section>
          <StatusHistory events={live.milestones} />
          <RunFacts run={r} />
          <ProvenancePanel runId={r.id} />
        </aside>
      </div>

      <section aria-labelledby="diff" className="rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
        <h2 id="diff" className="mb-3 text-sm font-semibold">
          Changes
        </h2>
        {r.diff ? (
          <DiffViewer diff={r.diff} review={review} />
        ) : (
          <p className="text-sm text-zinc-500">{r.finishedAt ? "This run changed no files." : "The diff appears when the run finishes."}</p>
        )}
      </section>
    </div>
  );
}

function LogPanel({ live }: { live: RunEvents }) {
  if (live.connection === "error") return <ErrorState error={live.error} title="The live log stopped" retry={() => window.location.reload()} />;
  return <EventLog live={live} />;
}

function ConnectionBadge({ state }: { state: RunEventsState["connection"] }) {
  const label = state === "live" ? "Live" : state === "connecting" ? "Connecting" : state === "reconnecting" ? "Reconnecting" : "Disconnected";
  return (
    <span className="flex items-center gap-1.5 text-xs text-zinc-500" data-testid="live-state" data-state={state} role="status">
      <span
        className={cn("size-2 rounded-full", state === "live" ? "bg-emerald-500" : state === "error" ? "bg-red-500" : "animate-pulse-dot bg-amber-500")}
        aria-hidden
      />
      {label}
    </span>
  );
}

function RunFacts({ run }: { run: RunDetail }) {
  const facts: [string, string][] = [
    ["Created", formatDateTime(run.createdAt)],
    ["Claimed", formatDateTime(run.claimedAt)],
    ["Started", formatDateTime(run.startedAt)],
    ["Finished", formatDateTime(run.finishedAt)],
    ["Attempt", `${run.attempt} of ${run.maxAttempts}`],
    ["Worktree", run.worktreePath ?? "—"],
  ];
  return (
    <section aria-labelledby="run-facts" className="rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
      <h2 id="run-facts" className="mb-2 text-sm font-semibold">
        Details
      </h2>
      <dl className="space-y-1 text-xs">
        {facts.map(([k, v]) => (
          <div key={k} className="flex gap-2">
            <dt className="w-16 shrink-0 text-zinc-500">{k}</dt>
            <dd className="min-w-0 break-all">{v}</dd>
          </div>
        ))}
      </dl>
      {run.summary ? (
        <div className="mt-3 text-xs">
          <p className="font-medium">Summary</p>
          <p className="mt-1 whitespace-pre-wrap text-zinc-600 dark:text-zinc-300">{run.summary}</p>
        </div>
      ) : null}
    </section>
  );
}
