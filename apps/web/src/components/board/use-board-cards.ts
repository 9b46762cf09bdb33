"use client";

import { useCallback, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC, useTRPCClient } from "@/trpc/react";
import type { CardColumn, CardRow } from "@/trpc/types";
import { COLUMN_IDS } from "@/lib/columns";

/** Cards read per column at first (what a screen shows, and more); scrolling near a column's end reads the next ones. */
const FIRST = 60;
const MORE = 500;

export type ColumnTotals = Record<CardColumn, number>;

/**
 * The board's cards, read a column page at a time (`card.listColumn`), so a board of
 * thousands shows its first cards at once. The cards are kept under `card.list`'s key, the
 * one the live updates, the moves and the dialogs patch and invalidate; a re-read reads
 * as many of each column as were shown.
 */
export function useBoardCards(boardId: string) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const wanted = useRef<ColumnTotals>(Object.fromEntries(COLUMN_IDS.map((c) => [c, FIRST])) as ColumnTotals);
  const [totals, setTotals] = useState<ColumnTotals | null>(null);
  const query = useQuery({
    queryKey: trpc.card.list.queryKey({ boardId }),
    queryFn: async (): Promise<CardRow[]> => {
      const columns = await Promise.all(
        COLUMN_IDS.map(async (column) => {
          const cards: CardRow[] = [];
          let after: string | undefined;
          let total = 0;
          for (;;) {
            const page = await client.card.listColumn.query({ boardId, column, after, limit: Math.min(MORE, wanted.current[column] - cards.length) });
            cards.push(...page.cards);
            total = page.total;
            if (!page.next || cards.length >= wanted.current[column]) break;
            after = page.next;
          }
          return { column, cards, total };
        }),
      );
      setTotals(Object.fromEntries(columns.map((c) => [c.column, c.total])) as ColumnTotals);
      // A card moved between two pages' reads shows once.
      const seen = new Set<string>();
      return columns.flatMap((c) => c.cards).filter((c) => !seen.has(c.id) && !!seen.add(c.id));
    },
  });
  const { data, refetch, isFetching } = query;
  const loadMore = useCallback(
    (column: CardColumn) => {
      const loaded = data?.filter((c) => c.column === column).length ?? 0;
      if (isFetching || !totals || loaded >= totals[column] || wanted.current[column] > loaded) return;
      wanted.current[column] = loaded + MORE;
      void refetch();
    },
    [data, totals, isFetching, refetch],
  );
  return { ...query, totals, loadMore };
}
