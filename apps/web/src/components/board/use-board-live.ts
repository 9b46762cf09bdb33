"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { skipToken, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useTRPC } from "@/trpc/react";
import type { CardRow } from "@/trpc/types";

const REFRESH_EVERY_MS = 250;

export type LiveState = "connecting" | "live" | "reconnecting";

/**
 * Keeps the board's cards current while it is open, from `board.onChanges`:
 * - a run event patches the card's latest-run status at once, and a status event (run.*)
 *   also re-reads the cards (a run that starts or succeeds moves its card), as does an
 *   approval event (approval.*: the card shows that its run waits for a person);
 * - a `cards` signal (created, edited, moved, deleted elsewhere) re-reads the cards;
 * - every (re)connection re-reads the cards, since card edits are not replayed.
 * Re-reads are coalesced, so a burst of changes costs one request.
 */
export function useBoardLive(boardId: string): LiveState {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const cardsKey = trpc.card.list.queryKey({ boardId });
  // Follow from the newest event at load time: the board's history is not needed.
  const cursor = useQuery(trpc.board.cursor.queryOptions({ boardId }, { staleTime: Infinity, gcTime: 0, refetchOnWindowFocus: false }));

  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refresh = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void qc.invalidateQueries({ queryKey: trpc.card.list.queryKey({ boardId }) });
    }, REFRESH_EVERY_MS);
  }, [qc, trpc, boardId]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const [state, setState] = useState<LiveState>("connecting");

  useSubscription(
    trpc.board.onChanges.subscriptionOptions(cursor.data ? { boardId, lastEventId: cursor.data.lastEventId } : skipToken, {
      onStarted: () => {
        setState("live");
        refresh();
      },
      onConnectionStateChange: (s) => {
        if (s.state === "connecting") setState((prev) => (prev === "connecting" ? prev : "reconnecting"));
      },
      onData: (change) => {
        if (!("id" in change)) {
          refresh();
          return;
        }
        const ev = change.data;
        // A snapshot comes only to a follower without a cursor; this one starts from board.cursor.
        if (ev.kind !== "run") return refresh();
        qc.setQueryData<CardRow[]>(cardsKey, (cards) =>
          cards?.map((c) => {
            const latest = c.runs[0];
            if (c.id !== ev.cardId || !latest || latest.id !== ev.runId || latest.status === ev.status) return c;
            return { ...c, runs: [{ ...latest, status: ev.status }] };
          }),
        );
        // Approvals change the card's "needs approval" mark.
        if (ev.type.startsWith("run.") || ev.type.startsWith("approval.")) refresh();
      },
    }),
  );
  return state;
}
