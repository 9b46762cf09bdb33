"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import type { CardRow } from "@/trpc/types";
import { toastError } from "@/lib/errors";
import { positionBetween } from "./ordering";

/**
 * `card.move` with the card put in place at once: the position is computed as the server
 * will compute it, so nothing jumps when the answer arrives. A refused move rolls back.
 */
export function useMoveCard(boardId: string) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const key = trpc.card.list.queryKey({ boardId });
  return useMutation(
    trpc.card.move.mutationOptions({
      onMutate: async (m) => {
        await qc.cancelQueries({ queryKey: key });
        const before = qc.getQueryData<CardRow[]>(key);
        if (before) {
          const pos = (id: string | null) => (id ? (before.find((c) => c.id === id)?.position ?? null) : null);
          const last = before.filter((c) => c.column === m.column && c.id !== m.cardId).reduce<number | null>((max, c) => (max == null || c.position > max ? c.position : max), null);
          const position = positionBetween(pos(m.afterCardId ?? null), pos(m.beforeCardId ?? null), last);
          qc.setQueryData<CardRow[]>(key, before.map((c) => (c.id === m.cardId ? { ...c, column: m.column, position } : c)));
        }
        return { before };
      },
      onError: (err, _m, ctx) => {
        if (ctx?.before) qc.setQueryData(key, ctx.before);
        toastError("Could not move the card")(err);
      },
      onSettled: () => qc.invalidateQueries({ queryKey: key }),
    }),
  );
}
