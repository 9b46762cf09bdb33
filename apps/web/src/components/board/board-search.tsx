"use client";

import { useEffect, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import type { CardRow } from "@/trpc/types";
import { columnTitle } from "@/lib/columns";
import { Input, Select } from "@/components/ui/field";
import { Spinner } from "@/components/ui/states";

type Archived = "exclude" | "include" | "only";

const isArchivedMode = (v: string): v is Archived => v === "exclude" || v === "include" || v === "only";

/**
 * Search the board on the server (`card.search`: every word, in title or description),
 * archived cards left out, included or alone. "Only archived" with no words lists the
 * board's archived cards (`card.list` with `archived`), which is how one is found to be
 * restored. A hit opens the card dialog.
 */
export function BoardSearch({ boardId, onOpen }: { boardId: string; onOpen: (card: CardRow) => void }) {
  const trpc = useTRPC();
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const [archived, setArchived] = useState<Archived>("exclude");
  useEffect(() => {
    const t = setTimeout(() => setQuery(text.trim()), 250);
    return () => clearTimeout(t);
  }, [text]);

  const searching = query !== "";
  const listingArchived = !searching && archived === "only";
  const hits = useQuery(trpc.card.search.queryOptions({ boardId, query, archived, limit: 50 }, { enabled: searching }));
  const archivedList = useQuery(trpc.card.list.queryOptions({ boardId, archived: true }, { enabled: listingArchived }));
  const result = searching ? hits : listingArchived ? archivedList : null;

  return (
    <div className="relative flex items-center gap-2">
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
      <div className="w-40">
        <Select aria-label="Archived cards" value={archived} onChange={(e) => isArchivedMode(e.target.value) && setArchived(e.target.value)}>
          <option value="exclude">Without archived</option>
          <option value="include">With archived</option>
          <option value="only">Only archived</option>
        </Select>
      </div>
      {result ? (
        <section
          aria-label="Search results"
          data-testid="search-results"
          className={
            "absolute top-full right-0 z-20 mt-1 max-h-96 w-[min(28rem,calc(100vw-2rem))] " +
            "overflow-y-auto rounded-lg bg-white p-2 shadow-lg ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-700"
          }
        >
          {result.isLoading ? <Spinner label="Searching" /> : null}
          {result.error ? <p className="text-sm text-red-600">{result.error.message}</p> : null}
          {result.data?.length === 0 ? <p className="px-2 py-1 text-sm text-zinc-500">{searching ? "No card matches." : "No archived cards."}</p> : null}
          <ul className="space-y-1">
            {result.data?.map((c) => (
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
