"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import type { CardRow } from "@/trpc/types";
import { toastError } from "@/lib/errors";
import { positionOfMove } from "./ordering";

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
          const position = positionOfMove(before, m);
          qc.setQueryData<CardRow[]>(
            key,
            before.map((c) => (c.id === m.cardId ? { ...c, column: m.column, position } : c)),
          );
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
