"use client";

import { memo, useEffect, useRef } from "react";
import { useDroppable } from "@dnd-kit/core";
import { SortableContext, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { CardColumn, CardRow } from "@/trpc/types";
import { cn } from "@/components/ui/cn";
import { SortableCard } from "./sortable-card";
import { AddCardForm } from "./add-card-form";

interface Props {
  boardId: string;
  column: CardColumn;
  title: string;
  cardIds: string[];
  /** The column's count of cards, when only the first `cardIds` of them are held. */
  total?: number;
  onNeedMore?: (column: CardColumn) => void;
  cardsById: Map<string, CardRow>;
  projectNames: Map<string, string>;
  canEdit: boolean;
  onOpen: (cardId: string) => void;
  onMoveKey: (cardId: string, key: "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown") => void;
}

const GAP = 8;

/**
 * One column: a drop target and a virtualized list, so a column of thousands of cards
 * renders only what is on screen.
 */
export const BoardColumn = memo(function BoardColumn({
  boardId,
  column,
  title,
  cardIds,
  total,
  onNeedMore,
  cardsById,
  projectNames,
  canEdit,
  onOpen,
  onMoveKey,
}: Props) {
  const { setNodeRef, isOver } = useDroppable({ id: column });
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: cardIds.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 84,
    overscan: 8,
    getItemKey: (i) => cardIds[i] ?? i,
  });
  const count = Math.max(total ?? 0, cardIds.length);
  const lastShown = virtualizer.getVirtualItems().at(-1)?.index ?? 0;
  useEffect(() => {
    if (count > cardIds.length && lastShown >= cardIds.length - 20) onNeedMore?.(column);
  }, [count, cardIds.length, lastShown, onNeedMore, column]);
  return (
    <section
      aria-labelledby={`col-${column}`}
      data-column={column}
      data-testid={`column-${column}`}
      className={cn(
        "flex h-full w-64 shrink-0 flex-col rounded-xl xl:w-auto xl:min-w-64 xl:flex-1 bg-zinc-100/80 dark:bg-zinc-900/60",
        isOver && "ring-2 ring-indigo-400",
      )}
    >
      <header className="flex items-center justify-between px-3 pt-3 pb-2">
        <h2 id={`col-${column}`} className="text-sm font-semibold text-zinc-700 dark:text-zinc-200">
          {title}
        </h2>
        <span
          className="rounded-full bg-zinc-200 px-2 text-xs text-zinc-600 tabular-nums dark:bg-zinc-800 dark:text-zinc-400"
          role="img"
          aria-label={`${count} cards`}
        >
          {count}
        </span>
      </header>
      {canEdit ? (
        <div className="px-2 pb-2">
          <AddCardForm
            boardId={boardId}
            column={column}
            onCreated={(id) => {
              // New cards go to the end of the column: bring them into view.
              requestAnimationFrame(() => {
                const i = cardIds.length;
                virtualizer.scrollToIndex(i, { align: "end" });
                document.querySelector<HTMLElement>(`[data-card-id="${id}"]`)?.focus();
              });
            }}
          />
        </div>
      ) : null}
      <div ref={scrollRef} className="min-h-0 flex-1 overflow-y-auto px-2 pt-1 pb-2" data-testid={`column-scroll-${column}`}>
        <div ref={setNodeRef} style={{ height: Math.max(virtualizer.getTotalSize(), 48), position: "relative" }}>
          <SortableContext id={column} items={cardIds} strategy={verticalListSortingStrategy}>
            {virtualizer.getVirtualItems().map((item) => {
              const card = cardsById.get(cardIds[item.index] ?? "");
              if (!card) return null;
              return (
                <div
                  key={item.key}
                  data-index={item.index}
                  ref={virtualizer.measureElement}
                  style={{ position: "absolute", top: 0, left: 0, width: "100%", transform: `translateY(${item.start}px)`, paddingBottom: GAP }}
                >
                  <SortableCard card={card} projectName={projectNames.get(card.projectId)} disabled={!canEdit} onOpen={onOpen} onMoveKey={onMoveKey} />
                </div>
              );
            })}
          </SortableContext>
          {cardIds.length === 0 ? <p className="px-2 py-3 text-center text-xs text-zinc-400">No cards</p> : null}
        </div>
      </div>
    </section>
  );
});
