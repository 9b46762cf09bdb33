import type { CardColumn } from "../../trpc/types";
import { COLUMN_IDS } from "../../lib/columns";

/** Card ids per column, in display order. */
export type ColumnOrder = Record<CardColumn, string[]>;

interface Positioned {
  id: string;
  column: CardColumn;
  position: number;
}

export function emptyOrder(): ColumnOrder {
  return { backlog: [], todo: [], in_progress: [], in_review: [], done: [] };
}

export function groupByColumn(cards: readonly Positioned[]): ColumnOrder {
  const order = emptyOrder();
  const sorted = [...cards].sort((a, b) => a.position - b.position || a.id.localeCompare(b.id));
  for (const c of sorted) order[c.column].push(c.id);
  return order;
}

export function columnOf(order: ColumnOrder, id: string): CardColumn | undefined {
  return COLUMN_IDS.find((col) => order[col].includes(id));
}

/** Moves `id` to `column` at `index` (clamped), removing it from wherever it was. */
export function moveInOrder(order: ColumnOrder, id: string, column: CardColumn, index: number): ColumnOrder {
  const next = { ...order };
  for (const col of COLUMN_IDS) if (next[col].includes(id)) next[col] = next[col].filter((x) => x !== id);
  const list = [...next[column]];
  list.splice(Math.max(0, Math.min(index, list.length)), 0, id);
  next[column] = list;
  return next;
}

/** The neighbours `card.move` takes: the cards just above and below in the new order. */
export function neighboursOf(order: ColumnOrder, id: string): { column: CardColumn; afterCardId: string | null; beforeCardId: string | null } | null {
  const column = columnOf(order, id);
  if (!column) return null;
  const list = order[column];
  const i = list.indexOf(id);
  return { column, afterCardId: list[i - 1] ?? null, beforeCardId: list[i + 1] ?? null };
}

/**
 * The position the server gives a card between two neighbours (packages/api cards.moveCard),
 * so an optimistic move lands where the server will put it.
 */
export function positionBetween(after: number | null, before: number | null, lastInColumn: number | null): number {
  if (after != null && before != null) return (after + before) / 2;
  if (after != null) return after + 1024;
  if (before != null) return before - 1024;
  return (lastInColumn ?? 0) + 1024;
}

/** The position `card.move` will give `move.cardId`, read from the cards as they are before the move. */
export function positionOfMove(
  cards: readonly Positioned[],
  move: { cardId: string; column: CardColumn; afterCardId?: string | null; beforeCardId?: string | null },
): number {
  const pos = (id: string | null | undefined) => (id ? (cards.find((c) => c.id === id)?.position ?? null) : null);
  const last = cards
    .filter((c) => c.column === move.column && c.id !== move.cardId)
    .reduce<number | null>((max, c) => (max == null || c.position > max ? c.position : max), null);
  return positionBetween(pos(move.afterCardId), pos(move.beforeCardId), last);
}
