"use client";

import { useState } from "react";
import Link from "next/link";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import type { Engine, RunStatus } from "@/trpc/types";
import { ENGINES, isEngine } from "@/lib/engines";
import { formatCost, formatDateTime } from "@/lib/format";
import { useWorkspaceChoice } from "@/components/workspace/use-workspace-choice";
import { WorkspacePicker } from "@/components/workspace/workspace-picker";
import { StatusBadge } from "@/components/ui/status-badge";
import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/field";
import { Empty, ErrorState, Loading } from "@/components/ui/states";

const STATUSES: RunStatus[] = ["queued", "claimed", "running", "succeeded", "failed", "cancelled", "merged", "aborted"];
const PAGE = 25;

const isStatus = (v: string): v is RunStatus => (STATUSES as string[]).includes(v);

/**
 * Every run of a workspace, newest first, filtered and paged by the server (`run.list`):
 * status, board, engine, who asked, since a day. "Older runs" follows the page's cursor;
 * changing a filter starts again from the newest.
 */
export function WorkspaceRunsPage() {
  const trpc = useTRPC();
  const { workspaces, chosen, choose } = useWorkspaceChoice();
  const workspaceId = chosen?.id ?? "";
  const boards = useQuery(trpc.board.list.queryOptions({ workspaceId }, { enabled: !!chosen }));
  const members = useQuery(trpc.member.list.queryOptions({ workspaceId }, { enabled: !!chosen }));
  const [status, setStatus] = useState<RunStatus | "">("");
  const [boardId, setBoardId] = useState("");
  const [engine, setEngine] = useState<Engine | "">("");
  const [createdBy, setCreatedBy] = useState("");
  const [since, setSince] = useState("");
  /** The cursors of the pages before this one (the first page has none). */
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const filters = {
    workspaceId,
    limit: PAGE,
    ...(status ? { status } : {}),
    ...(boardId ? { boardId } : {}),
    ...(engine ? { engine } : {}),
    ...(createdBy ? { createdBy } : {}),
    ...(since ? { since: new Date(`${since}T00:00:00`) } : {}),
    ...(cursor ? { cursor } : {}),
  };
  const runs = useQuery(trpc.run.list.queryOptions(filters, { enabled: !!chosen, placeholderData: keepPreviousData }));
  const boardName = new Map((boards.data ?? []).map((b) => [b.id, b.name]));
  /** A filter changed: back to the newest page. */
  const refilter =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      setCursors([]);
    };

  return (
    <div className="mx-auto w-full max-w-6xl space-y-4 px-4 py-8">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Runs</h1>
          <p className="text-sm text-zinc-500">Every run of the workspace, newest first.</p>
        </div>
        <WorkspacePicker workspaces={workspaces.data ?? []} value={chosen?.id} onChange={refilter(choose)} />
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: role=search on the form itself; a <search> wrapper would add an element for the same landmark. */}
      <form role="search" aria-label="Filter runs" className="grid gap-3 sm:grid-cols-5" onSubmit={(e) => e.preventDefault()}>
        <Field label="Status">
          <Select value={status} onChange={(e) => refilter(setStatus)(isStatus(e.target.value) ? e.target.value : "")}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Board">
          <Select value={boardId} onChange={(e) => refilter(setBoardId)(e.target.value)}>
            <option value="">Any</option>
            {boards.data?.map((b) => (
              <option key={b.id} value={b.id}>
                {b.name}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Engine">
          <Select value={engine} onChange={(e) => refilter(setEngine)(isEngine(e.target.value) ? e.target.value : "")}>
            <option value="">Any</option>
            {ENGINES.map((e) => (
              <option key={e.id} value={e.id}>
                {e.label}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Asked by">
          <Select value={createdBy} onChange={(e) => refilter(setCreatedBy)(e.target.value)}>
            <option value="">Anyone</option>
            {/* A person's runs name them `user:<email>` (the actor of their events). */}
            {members.data?.map((m) => (
              <option key={m.userId} value={`user:${m.email}`}>
                {m.name && m.name !== m.email ? `${m.name} (${m.email})` : m.email}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Since">
          <Input type="date" value={since} onChange={(e) => refilter(setSince)(e.target.value)} />
        </Field>
      </form>
      {workspaces.isLoading || runs.isLoading ? <Loading label="Loading runs" /> : null}
      {workspaces.error ? <ErrorState error={workspaces.error} retry={() => void workspaces.refetch()} /> : null}
      {runs.error ? <ErrorState error={runs.error} retry={() => void runs.refetch()} /> : null}
      {workspaces.data?.length === 0 ? <Empty title="No workspaces yet" /> : null}
      {runs.data?.items.length === 0 ? <Empty title={cursors.length ? "No older runs" : "No runs match"} /> : null}
      {runs.data?.items.length ? (
        <div className="overflow-x-auto rounded-xl bg-white ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
          <table className="w-full text-left text-sm" data-testid="runs-table">
            <thead className="border-b border-zinc-200 text-xs text-zinc-500 dark:border-zinc-800">
              <tr>
                <th className="px-4 py-2 font-medium">Card</th>
                <th className="px-4 py-2 font-medium">Status</th>
                <th className="px-4 py-2 font-medium">Board</th>
                <th className="px-4 py-2 font-medium">Engine</th>
                <th className="px-4 py-2 font-medium">Asked by</th>
                <th className="px-4 py-2 font-medium">Created</th>
                <th className="px-4 py-2 font-medium">Cost</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {runs.data.items.map((r) => (
                <tr key={r.id} data-testid="run-row" data-run-id={r.id}>
                  <td className="px-4 py-2">
                    <Link href={`/runs/${r.id}`} className="text-indigo-600 underline dark:text-indigo-400">
                      {r.card.title}
                    </Link>
                  </td>
                  <td className="px-4 py-2">
                    <StatusBadge status={r.status} />
                  </td>
                  <td className="px-4 py-2">{boardName.get(r.boardId) ?? "(archived board)"}</td>
                  <td className="px-4 py-2">{r.engine}</td>
                  <td className="px-4 py-2 text-xs">{r.createdBy}</td>
                  <td className="px-4 py-2 text-xs text-zinc-500">{formatDateTime(r.createdAt)}</td>
                  <td className="px-4 py-2 text-xs">{formatCost(r.costUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <div className="flex items-center gap-2">
        <Button size="sm" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Newer runs
        </Button>
        <Button size="sm" disabled={!runs.data?.nextCursor} onClick={() => runs.data?.nextCursor && setCursors((c) => [...c, runs.data.nextCursor!])}>
          Older runs
        </Button>
        <span className="text-xs text-zinc-500" data-testid="runs-page">
          page {cursors.length + 1}
        </span>
      </div>
    </div>
  );
}
