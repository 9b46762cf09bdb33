"use client";

import Link from "next/link";
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import type { Workspace } from "@/trpc/types";
import { useSession } from "@/components/session/use-session";
import { can } from "@/lib/roles";
import { formatCost } from "@/lib/format";
import { ErrorState, Spinner } from "@/components/ui/states";
import { CreateBoardForm } from "./create-board-form";
import { ProjectList } from "./project-list";

export function WorkspaceSection({ workspace }: { workspace: Workspace }) {
  const trpc = useTRPC();
  const { session } = useSession();
  const boards = useQuery(trpc.board.list.queryOptions({ workspaceId: workspace.id }));
  return (
    <section
      aria-labelledby={`ws-${workspace.id}`}
      className="space-y-4 rounded-xl bg-white p-5 shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800"
    >
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id={`ws-${workspace.id}`} className="text-lg font-semibold">
          {workspace.name} <span className="text-sm font-normal text-zinc-500">/{workspace.slug}</span>
        </h2>
        <span className="text-xs text-zinc-500">
          spent {formatCost(workspace.spentUsd)}
          {workspace.budgetUsd != null ? ` of ${formatCost(workspace.budgetUsd)}` : ""}
        </span>
      </div>
      <div>
        <div className="mb-2 flex items-center justify-between">
          <h3 className="text-sm font-medium text-zinc-600 dark:text-zinc-400">Boards</h3>
          {can(session, "member", workspace.id) ? <CreateBoardForm workspaceId={workspace.id} /> : null}
        </div>
        {boards.isLoading ? <Spinner label="Loading boards" /> : null}
        {boards.error ? <ErrorState error={boards.error} retry={() => void boards.refetch()} /> : null}
        {boards.data?.length === 0 ? <p className="text-sm text-zinc-500">No boards yet.</p> : null}
        <ul className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-3">
          {boards.data?.map((b) => (
            <li key={b.id}>
              <Link
                href={`/boards/${b.id}`}
                className={
                  "block rounded-lg border border-zinc-200 px-4 py-3 hover:border-indigo-400 " +
                  "hover:bg-indigo-50/40 dark:border-zinc-700 dark:hover:border-indigo-500 dark:hover:bg-indigo-950/30"
                }
              >
                <span className="font-medium">{b.name}</span>
                <span className="block text-xs text-zinc-500">created {b.createdAt.toLocaleDateString()}</span>
              </Link>
            </li>
          ))}
        </ul>
      </div>
      <ArchivedBoards workspaceId={workspace.id} />
      <ProjectList workspaceId={workspace.id} />
    </section>
  );
}

/** Archived boards, read when asked for: each opens read-only, with Restore for admins. */
function ArchivedBoards({ workspaceId }: { workspaceId: string }) {
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const boards = useQuery(trpc.board.list.queryOptions({ workspaceId, archived: true }, { enabled: open }));
  return (
    <details className="text-sm" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary className="cursor-pointer text-zinc-600 dark:text-zinc-400">Archived boards</summary>
      {boards.isLoading ? <Spinner label="Loading archived boards" /> : null}
      {boards.error ? <ErrorState error={boards.error} retry={() => void boards.refetch()} /> : null}
      {boards.data?.length === 0 ? <p className="mt-1 text-zinc-500">No archived boards.</p> : null}
      <ul className="mt-1 space-y-1" aria-label="Archived boards">
        {boards.data?.map((b) => (
          <li key={b.id}>
            <Link href={`/boards/${b.id}`} className="text-indigo-600 underline dark:text-indigo-400">
              {b.name}
            </Link>{" "}
            <span className="text-xs text-zinc-500">archived {b.archivedAt ? new Date(b.archivedAt).toLocaleDateString() : ""}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}
