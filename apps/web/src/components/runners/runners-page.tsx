"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import type { RunnerRow } from "@/trpc/types";
import { stringsOf, timeAgo } from "@/lib/format";
import { useWorkspaceChoice } from "@/components/workspace/use-workspace-choice";
import { WorkspacePicker } from "@/components/workspace/workspace-picker";
import { StatusBadge } from "@/components/ui/status-badge";
import { Empty, ErrorState, Loading } from "@/components/ui/states";
import { cn } from "@/components/ui/cn";

/** A runner that showed no sign of life for this long is shown offline (two missed lease periods). */
const ONLINE_WITHIN_MS = 60_000;

/** The runner's last sign of life: a claim long-poll, or a heartbeat on one of its runs. */
function lastHeartbeat(r: RunnerRow): Date {
  return r.runs.reduce<Date>((latest, run) => (run.heartbeatAt && run.heartbeatAt > latest ? run.heartbeatAt : latest), r.lastSeenAt);
}

export function RunnersPage() {
  const trpc = useTRPC();
  const { workspaces, chosen, choose } = useWorkspaceChoice();
  const runners = useQuery(trpc.runner.list.queryOptions({ workspaceId: chosen?.id ?? "" }, { enabled: !!chosen, refetchInterval: 5_000 }));
  const now = runners.dataUpdatedAt || Date.now();

  return (
    <div className="mx-auto w-full max-w-6xl space-y-4 px-4 py-8">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Runners</h1>
          <p className="text-sm text-zinc-500">Processes that claim queued runs and execute them. Refreshed every 5 s.</p>
        </div>
        <WorkspacePicker workspaces={workspaces.data ?? []} value={chosen?.id} onChange={choose} />
      </div>
      {workspaces.isLoading || runners.isLoading ? <Loading label="Loading runners" /> : null}
      {workspaces.error ? <ErrorState error={workspaces.error} retry={() => void workspaces.refetch()} /> : null}
      {runners.error ? <ErrorState error={runners.error} retry={() => void runners.refetch()} /> : null}
      {workspaces.data?.length === 0 ? <Empty title="No workspaces yet" /> : null}
      {runners.data?.length === 0 ? (
        <Empty title="No runners have registered in this workspace">
          <code>npm run runner -- --server … --token …</code> starts one; <code>npm start</code> starts one beside the server.
        </Empty>
      ) : null}
      {runners.data?.length ? (
        <div className="overflow-x-auto rounded-xl bg-white ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
          <table className="w-full text-left text-sm" data-testid="runners-table">
            <thead className="border-b border-zinc-200 text-xs text-zinc-500 dark:border-zinc-800">
              <tr>
                <th className="px-4 py-2 font-medium">Runner</th>
                <th className="px-4 py-2 font-medium">State</th>
                <th className="px-4 py-2 font-medium">Sandbox</th>
                <th className="px-4 py-2 font-medium">Labels</th>
                <th className="px-4 py-2 font-medium">Capacity</th>
                <th className="px-4 py-2 font-medium">Last heartbeat</th>
                <th className="px-4 py-2 font-medium">Current runs</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {runners.data.map((r) => {
                const beat = lastHeartbeat(r);
                const online = now - beat.getTime() < ONLINE_WITHIN_MS;
                return (
                  <tr key={r.id}>
                    <td className="px-4 py-2">
                      <span className="font-medium">{r.name}</span>
                      <span className="block text-xs text-zinc-500">
                        {r.hostname ?? "unknown host"}
                        {r.version ? ` · v${r.version}` : ""}
                      </span>
                    </td>
                    <td className="px-4 py-2">
                      <span className={cn("inline-flex items-center gap-1.5 text-xs font-medium", online ? "text-emerald-600" : "text-zinc-500")}>
                        <span className={cn("size-2 rounded-full", online ? "bg-emerald-500" : "bg-zinc-400")} aria-hidden />
                        {online ? "online" : "offline"}
                      </span>
                    </td>
                    <td className="px-4 py-2">
                      <SandboxCell sandbox={r.sandbox} />
                    </td>
                    <td className="px-4 py-2">
                      <div className="flex flex-wrap gap-1">
                        {stringsOf(r.labels).map((l) => (
                          <span key={l} className="rounded bg-zinc-100 px-1.5 py-0.5 text-xs dark:bg-zinc-800">
                            {l}
                          </span>
                        ))}
                      </div>
                    </td>
                    <td className="px-4 py-2 tabular-nums">
                      {r.runs.length} / {r.capacity}
                    </td>
                    <td className="px-4 py-2 text-xs text-zinc-500" title={beat.toISOString()}>
                      {timeAgo(beat, now)}
                    </td>
                    <td className="px-4 py-2">
                      <ul className="space-y-1">
                        {r.runs.map((run) => (
                          <li key={run.id} className="flex items-center gap-2 text-xs">
                            <StatusBadge status={run.status} />
                            <Link href={`/runs/${run.id}`} className="truncate hover:underline">
                              {run.card.title}
                            </Link>
                          </li>
                        ))}
                        {r.runs.length === 0 ? <li className="text-xs text-zinc-500">idle</li> : null}
                      </ul>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

interface SandboxSupport {
  available?: boolean;
  reason?: string | null;
  limits?: Record<string, string>;
}

/** What the runner said about its sandbox when it registered; a runner without one takes only unconfined projects' runs. */
function SandboxCell({ sandbox }: { sandbox: unknown }) {
  const s = (sandbox ?? null) as SandboxSupport | null;
  if (!s) return <span className="text-xs text-zinc-500">not reported</span>;
  if (!s.available) {
    return (
      <span className="text-xs font-medium text-red-700 dark:text-red-300" title={s.reason ?? undefined} data-testid="runner-no-sandbox">
        none: unconfined projects only
        <span className="block font-normal text-zinc-500">{s.reason}</span>
      </span>
    );
  }
  const limits = Object.entries(s.limits ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  return (
    <span className="text-xs font-medium text-emerald-700 dark:text-emerald-300" title={limits}>
      bubblewrap
      <span className="block font-normal text-zinc-500">{limits}</span>
    </span>
  );
}
