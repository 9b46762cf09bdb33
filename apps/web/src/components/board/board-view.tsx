"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  closestCorners,
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  useSensor,
  useSensors,
  type Announcements,
  type DragEndEvent,
  type DragOverEvent,
  type DragStartEvent,
} from "@dnd-kit/core";
import { sortableKeyboardCoordinates } from "@dnd-kit/sortable";
import type { CardColumn, CardRow } from "@/trpc/types";
import type { ColumnTotals } from "./use-board-cards";
import { COLUMN_IDS, COLUMNS, columnTitle, isColumn } from "@/lib/columns";
import { BoardColumn } from "./board-column";
import { CardTile } from "./card-tile";
import { columnOf, groupByColumn, moveInOrder, neighboursOf, type ColumnOrder } from "./ordering";
import { useMoveCard } from "./use-move-card";

interface Props {
  boardId: string;
  cards: CardRow[];
  /** Each column's count of cards, of which `cards` may hold only the first. */
  totals?: ColumnTotals | null;
  /** A column scrolled near the end of what is held: read more of it. */
  onNeedMore?: (column: CardColumn) => void;
  projectNames: Map<string, string>;
  canEdit: boolean;
  onOpen: (cardId: string) => void;
}

/**
 * The five columns with drag and drop. While a card is dragged the board works on a local
 * copy of the order (so crossing columns is instant); on drop, `card.move` gets the card's
 * new neighbours and the cache is updated optimistically.
 */
export function BoardView({ boardId, cards, totals, onNeedMore, projectNames, canEdit, onOpen }: Props) {
  const serverOrder = useMemo(() => groupByColumn(cards), [cards]);
  const cardsById = useMemo(() => new Map(cards.map((c) => [c.id, c])), [cards]);
  const [dragOrder, setDragOrder] = useState<ColumnOrder | null>(null);
  const [activeId, setActiveId] = useState<string | null>(null);
  const order = dragOrder ?? serverOrder;
  const move = useMoveCard(boardId);

  const sensors = useSensors(
    // A few pixels of travel before a drag starts, so a click still opens the card.
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(KeyboardSensor, {
      coordinateGetter: sortableKeyboardCoordinates,
      // Enter opens a card; Space picks it up and drops it.
      keyboardCodes: { start: ["Space"], cancel: ["Escape"], end: ["Space", "Enter"] },
    }),
  );

  const containerOf = useCallback((o: ColumnOrder, id: string) => (isColumn(id) ? id : columnOf(o, id)), []);

  const onDragStart = ({ active }: DragStartEvent) => {
    setActiveId(String(active.id));
    setDragOrder(serverOrder);
  };

  const onDragOver = ({ active, over }: DragOverEvent) => {
    if (!over) return;
    setDragOrder((current) => {
      const o = current ?? serverOrder;
      const id = String(active.id);
      const from = columnOf(o, id);
      const to = containerOf(o, String(over.id));
      if (!from || !to || from === to) return o;
      const target = o[to];
      const overIndex = target.indexOf(String(over.id));
      const translated = active.rect.current.translated;
      const below = translated ? translated.top > over.rect.top + over.rect.height / 2 : false;
      const index = overIndex >= 0 ? overIndex + (below ? 1 : 0) : target.length;
      return moveInOrder(o, id, to, index);
    });
  };

  const onDragEnd = ({ active, over }: DragEndEvent) => {
    const id = String(active.id);
    setActiveId(null);
    const o = dragOrder ?? serverOrder;
    setDragOrder(null);
    if (!over) return;
    const col = columnOf(o, id);
    const to = containerOf(o, String(over.id));
    if (!col || !to) return;
    let final = o;
    if (col === to && !isColumn(String(over.id))) {
      const list = o[col];
      final = moveInOrder(o, id, col, list.indexOf(String(over.id)));
    }
    const target = neighboursOf(final, id);
    const before = neighboursOf(serverOrder, id);
    if (!target) return;
    if (before && before.column === target.column && before.afterCardId === target.afterCardId && before.beforeCardId === target.beforeCardId) return;
    move.mutate({ cardId: id, ...target });
  };

  const refocus = useRef<{ cardId: string; column: string } | null>(null);

  /** Alt+arrows on a focused card: the keyboard way across columns (and up and down). */
  const moveByKey = useCallback(
    (cardId: string, key: "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown") => {
      const from = columnOf(serverOrder, cardId);
      if (!from) return;
      const ci = COLUMN_IDS.indexOf(from);
      const index = serverOrder[from].indexOf(cardId);
      let next: ColumnOrder;
      if (key === "ArrowLeft" || key === "ArrowRight") {
        const to = COLUMN_IDS[ci + (key === "ArrowRight" ? 1 : -1)];
        if (!to) return;
        next = moveInOrder(serverOrder, cardId, to, Math.min(index, serverOrder[to].length));
      } else {
        const target = index + (key === "ArrowDown" ? 1 : -1);
        if (target < 0 || target >= serverOrder[from].length) return;
        next = moveInOrder(serverOrder, cardId, from, target);
      }
      const n = neighboursOf(next, cardId);
      if (!n) return;
      refocus.current = { cardId, column: n.column };
      move.mutate({ cardId, ...n });
    },
    [serverOrder, move],
  );

  // A card moved by keyboard is rendered anew in its new place: give it the focus back
  // once the (optimistic) order shows it there.
  useEffect(() => {
    const want = refocus.current;
    if (!want || columnOf(serverOrder, want.cardId) !== want.column) return;
    refocus.current = null;
    requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-card-id="${want.cardId}"]`)?.focus());
  }, [serverOrder]);

  const announcements: Announcements = {
    onDragStart: ({ active }) => `Picked up ${cardsById.get(String(active.id))?.title ?? "card"}.`,
    onDragOver: ({ active, over }) => {
      if (!over) return undefined;
      const o = dragOrder ?? serverOrder;
      const col = containerOf(o, String(over.id));
      if (!col) return undefined;
      const title = cardsById.get(String(active.id))?.title ?? "Card";
      const at = o[col].indexOf(String(over.id));
      return at < 0 ? `${title} is over ${columnTitle(col)}.` : `${title} is over ${columnTitle(col)}, position ${at + 1} of ${o[col].length}.`;
    },
    onDragEnd: ({ active, over }) => {
      const col = over ? containerOf(dragOrder ?? serverOrder, String(active.id)) : undefined;
      return col ? `Dropped in ${columnTitle(col)}.` : "Dropped.";
    },
    onDragCancel: () => "Move cancelled.",
  };

  const active = activeId ? cardsById.get(activeId) : undefined;
  return (
    <DndContext
      sensors={sensors}
      collisionDetection={closestCorners}
      onDragStart={onDragStart}
      onDragOver={onDragOver}
      onDragEnd={onDragEnd}
      onDragCancel={() => {
        setActiveId(null);
        setDragOrder(null);
      }}
      accessibility={{
        announcements,
        screenReaderInstructions: {
          draggable:
            "Press Space to pick up the card, arrow keys to move it, Space to drop it, Escape to " +
            "cancel. Alt with an arrow key moves it to the next column or place at once. Enter opens it.",
        },
      }}
    >
      <div className="flex h-full min-h-0 gap-3 overflow-x-auto p-4" data-testid="board">
        {COLUMNS.map((c) => (
          <BoardColumn
            key={c.id}
            boardId={boardId}
            column={c.id}
            title={c.title}
            cardIds={order[c.id]}
            total={totals?.[c.id]}
            onNeedMore={onNeedMore}
            cardsById={cardsById}
            projectNames={projectNames}
            canEdit={canEdit}
            onOpen={onOpen}
            onMoveKey={moveByKey}
          />
        ))}
      </div>
      <DragOverlay>{active ? <CardTile card={active} projectName={projectNames.get(active.projectId)} overlay /> : null}</DragOverlay>
    </DndContext>
  );
}
