"use client";

import { useEffect, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import type { CardRow, RunStatus } from "@/trpc/types";
import { columnTitle } from "@/lib/columns";
import { Input, Select } from "@/components/ui/field";
import { Spinner } from "@/components/ui/states";
import { isLabel, LABEL_RULE } from "@/lib/card-fields";

type Archived = "exclude" | "include" | "only";
type StatusFilter = RunStatus | "none";

const isArchivedMode = (v: string): v is Archived => v === "exclude" || v === "include" || v === "only";
const STATUSES: StatusFilter[] = ["none", "queued", "claimed", "running", "succeeded", "failed", "cancelled", "merged", "aborted"];
const isStatus = (v: string): v is StatusFilter => (STATUSES as string[]).includes(v);

/**
 * Search and filter the board on the server (`card.search`): every word in title or
 * description, a label, the latest run's status, the project, and a person (who asked for
 * one of the card's runs: cards record no creator). Archived cards are left out, included or
 * alone. "Only archived" with nothing else lists the board's archived cards (`card.list`
 * with `archived`), which is how one is found to be restored. A hit opens the card dialog.
 */
export function BoardSearch({
  boardId,
  workspaceId,
  projects,
  knownLabels,
  onOpen,
}: {
  boardId: string;
  workspaceId: string;
  projects: { id: string; name: string }[];
  /** Labels of the cards read so far, offered as suggestions (any label can be typed). */
  knownLabels: string[];
  onOpen: (card: CardRow) => void;
}) {
  const trpc = useTRPC();
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const [labelText, setLabelText] = useState("");
  const [label, setLabel] = useState("");
  const [archived, setArchived] = useState<Archived>("exclude");
  const [status, setStatus] = useState<StatusFilter | "">("");
  const [projectId, setProjectId] = useState("");
  const [personId, setPersonId] = useState("");
  const members = useQuery(trpc.member.list.queryOptions({ workspaceId }));
  useEffect(() => {
    const t = setTimeout(() => {
      setQuery(text.trim());
      setLabel(labelText.trim());
    }, 250);
    return () => clearTimeout(t);
  }, [text, labelText]);

  const labelInvalid = label !== "" && !isLabel(label);
  const filtered = (label !== "" && !labelInvalid) || status !== "" || projectId !== "" || personId !== "";
  const searching = query !== "" || filtered;
  const listingArchived = !searching && archived === "only";
  const input = {
    boardId,
    archived,
    limit: 50,
    ...(query ? { query } : {}),
    ...(label && !labelInvalid ? { labels: [label] } : {}),
    ...(status ? { statuses: [status] } : {}),
    ...(projectId ? { projectId } : {}),
    ...(personId ? { personId } : {}),
  };
  const hits = useQuery(trpc.card.search.queryOptions(input, { enabled: searching }));
  const archivedList = useQuery(trpc.card.list.queryOptions({ boardId, archived: true }, { enabled: listingArchived }));
  const result = searching ? hits : listingArchived ? archivedList : null;
  const labelListId = `labels-${boardId}`;

  return (
    <div className="relative flex flex-wrap items-center gap-2" data-testid="board-filters">
      <div className="w-40 sm:w-64">
        <Input
          type="search"
          aria-label="Search cards"
          placeholder="Search cards…"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape") setText("");
          }}
        />
      </div>
      <div className="w-32">
        <Input
          aria-label="Filter by label"
          placeholder="Label…"
          list={labelListId}
          value={labelText}
          onChange={(e) => setLabelText(e.target.value)}
          aria-invalid={labelInvalid || undefined}
          title={labelInvalid ? LABEL_RULE : undefined}
        />
        <datalist id={labelListId}>
          {knownLabels.map((l) => (
            <option key={l} value={l} />
          ))}
        </datalist>
      </div>
      <div className="w-32">
        <Select aria-label="Filter by status" value={status} onChange={(e) => setStatus(isStatus(e.target.value) ? e.target.value : "")}>
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s === "none" ? "never run" : s}
            </option>
          ))}
        </Select>
      </div>
      <div className="w-32">
        <Select aria-label="Filter by project" value={projectId} onChange={(e) => setProjectId(e.target.value)}>
          <option value="">Any project</option>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </Select>
      </div>
      <div className="w-36">
        <Select aria-label="Filter by person" title="Who asked for one of the card's runs" value={personId} onChange={(e) => setPersonId(e.target.value)}>
          <option value="">Anyone</option>
          {members.data?.map((m) => (
            <option key={m.userId} value={m.userId}>
              {m.name || m.email}
            </option>
          ))}
        </Select>
      </div>
      <div className="w-40">
        <Select aria-label="Archived cards" value={archived} onChange={(e) => isArchivedMode(e.target.value) && setArchived(e.target.value)}>
          <option value="exclude">Without archived</option>
          <option value="include">With archived</option>
          <option value="only">Only archived</option>
        </Select>
      </div>
      {result || labelInvalid ? (
        <section
          aria-label="Search results"
          data-testid="search-results"
          className={
            "absolute top-full right-0 z-20 mt-1 max-h-96 w-[min(28rem,calc(100vw-2rem))] " +
            "overflow-y-auto rounded-lg bg-white p-2 shadow-lg ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-700"
          }
        >
          {result?.isLoading ? <Spinner label="Searching" /> : null}
          {result?.error ? <p className="text-sm text-red-600">{result.error.message}</p> : null}
          {labelInvalid ? <p className="px-2 py-1 text-xs text-amber-700 dark:text-amber-300">{`“${label}”: ${LABEL_RULE}`}</p> : null}
          {result?.data?.length === 0 ? <p className="px-2 py-1 text-sm text-zinc-500">{searching ? "No card matches." : "No archived cards."}</p> : null}
          <ul className="space-y-1">
            {result?.data?.map((c) => (
              <li key={c.id}>
                <button
                  type="button"
                  data-testid="search-hit"
                  onClick={() => onOpen(c)}
                  className="flex w-full items-center justify-between gap-2 rounded-md px-2 py-1.5 text-left text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800"
                >
                  <span className="truncate">{c.title}</span>
                  <span className="shrink-0 text-xs text-zinc-500">
                    {c.archivedAt ? (
                      <span className="mr-1 rounded bg-amber-100 px-1 text-amber-800 dark:bg-amber-900 dark:text-amber-100">archived</span>
                    ) : null}
                    {columnTitle(c.column)}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
