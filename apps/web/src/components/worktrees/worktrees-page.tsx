"use client";

import { useState } from "react";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import { formatBytes, timeAgo } from "@/lib/format";
import { useWorkspaceChoice } from "@/components/workspace/use-workspace-choice";
import { WorkspacePicker } from "@/components/workspace/workspace-picker";
import { StatusBadge } from "@/components/ui/status-badge";
import { Empty, ErrorState, Loading } from "@/components/ui/states";
import { cn } from "@/components/ui/cn";
import type { WorktreeRow } from "@/trpc/types";
import { useSession } from "@/components/session/use-session";
import { can } from "@/lib/roles";
import { RemoveWorktreeAction } from "./remove-worktree";

const STATE_CLASS: Record<WorktreeRow["status"], string> = {
  active: "bg-blue-50 text-blue-700 ring-blue-300 dark:bg-blue-950 dark:text-blue-300 dark:ring-blue-800",
  idle: "bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-600",
  missing: "bg-amber-50 text-amber-800 ring-amber-300 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800",
  removed: "bg-zinc-50 text-zinc-500 ring-zinc-200 dark:bg-zinc-900 dark:text-zinc-500 dark:ring-zinc-700",
};

const STATE_HINT: Record<WorktreeRow["status"], string> = {
  active: "its run is claimed or running",
  idle: "its run is finished; the worktree is still on disk",
  missing: "not on this server's disk (a remote runner's, or deleted by hand)",
  removed: "removed; kept for the record",
};

/** Every worktree runners made for runs; admins can remove one (its branch stays). */
export function WorktreesPage() {
  const trpc = useTRPC();
  const { workspaces, chosen, choose } = useWorkspaceChoice();
  const session = useSession().session;
  const isAdmin = can(session, "admin", chosen?.id);
  const [includeRemoved, setIncludeRemoved] = useState(false);
  const worktrees = useQuery(
    trpc.worktree.list.queryOptions({ workspaceId: chosen?.id ?? "", includeRemoved }, { enabled: !!chosen, refetchInterval: 10_000 }),
  );
  const now = worktrees.dataUpdatedAt || Date.now();

  return (
    <div className="mx-auto w-full max-w-6xl space-y-4 px-4 py-8">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Worktrees</h1>
          <p className="text-sm text-zinc-500">The git worktree and branch of each run, on its runner&apos;s machine.</p>
        </div>
        <div className="flex items-center gap-4">
          <label className="flex items-center gap-1.5 text-sm text-zinc-600 dark:text-zinc-400">
            <input type="checkbox" checked={includeRemoved} onChange={(e) => setIncludeRemoved(e.target.checked)} />
            Show removed
          </label>
          <WorkspacePicker workspaces={workspaces.data ?? []} value={chosen?.id} onChange={choose} />
        </div>
      </div>
      {workspaces.isLoading || worktrees.isLoading ? <Loading label="Loading worktrees" /> : null}
      {workspaces.error ? <ErrorState error={workspaces.error} retry={() => void workspaces.refetch()} /> : null}
      {worktrees.error ? <ErrorState error={worktrees.error} retry={() => void worktrees.refetch()} /> : null}
      {worktrees.data?.length === 0 ? <Empty title="No worktrees">Runners create one when they start a run.</Empty> : null}
      {worktrees.data?.length ? (
        <div className="overflow-x-auto rounded-xl bg-white ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
          <table className="w-full text-left text-sm" data-testid="worktrees-table">
            <thead className="border-b border-zinc-200 text-xs text-zinc-500 dark:border-zinc-800">
              <tr>
                <th className="px-4 py-2 font-medium">Path</th>
                <th className="px-4 py-2 font-medium">State</th>
                <th className="px-4 py-2 font-medium">Branch</th>
                <th className="px-4 py-2 font-medium">Run</th>
                <th className="px-4 py-2 font-medium">Age</th>
                <th className="px-4 py-2 font-medium">Size</th>
                {isAdmin ? (
                  <th className="px-4 py-2 font-medium">
                    <span className="sr-only">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {worktrees.data.map((w) => (
                <tr key={w.id} className={w.removedAt ? "opacity-60" : undefined}>
                  <td className="px-4 py-2">
                    <code className="text-xs break-all">{w.path}</code>
                    <span className="block text-xs text-zinc-500">
                      {w.project.name}
                      {w.run.runner ? ` · ${w.run.runner.name}` : ""}
                      {w.removedAt ? ` · removed ${timeAgo(w.removedAt, now)}` : ""}
                    </span>
                  </td>
                  <td className="px-4 py-2">
                    <span className={cn("rounded-full px-2 py-0.5 text-xs ring-1 ring-inset", STATE_CLASS[w.status])} title={STATE_HINT[w.status]}>
                      {w.status}
                    </span>
                  </td>
                  <td className="px-4 py-2">
                    <code className="text-xs">{w.branch}</code>
                  </td>
                  <td className="px-4 py-2">
                    <Link href={`/runs/${w.run.id}`} className="flex items-center gap-2 text-xs hover:underline">
                      <StatusBadge status={w.run.status} />
                      <span className="truncate">{w.run.card.title}</span>
                    </Link>
                  </td>
                  <td className="px-4 py-2 text-xs text-zinc-500" title={w.createdAt.toISOString()}>
                    {timeAgo(w.createdAt, now)}
                  </td>
                  <td className="px-4 py-2 text-xs tabular-nums" title={w.sizeMeasured ? "measured now" : "as last recorded"}>
                    {formatBytes(w.sizeBytes)}
                    {w.sizeMeasured || w.sizeBytes == null ? "" : "*"}
                  </td>
                  {isAdmin ? (
                    <td className="px-4 py-2 text-right">
                      <RemoveWorktreeAction worktree={w} />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
