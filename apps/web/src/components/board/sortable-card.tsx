"use client";

import { memo } from "react";
import { useSortable } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import type { CardRow } from "@/trpc/types";
import { CardTile } from "./card-tile";

interface Props {
  card: CardRow;
  projectName?: string;
  disabled: boolean;
  onOpen: (cardId: string) => void;
}

/**
 * A draggable card. Space picks it up for a keyboard move (arrows, Space to drop, Escape
 * to cancel); Enter and a click open it.
 */
export const SortableCard = memo(function SortableCard({ card, projectName, disabled, onOpen }: Props) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id: card.id, disabled });
  return (
    <div
      ref={setNodeRef}
      style={{ transform: CSS.Translate.toString(transform), transition }}
      {...attributes}
      {...listeners}
      aria-roledescription="card"
      aria-label={`${card.title}${card.runs[0] ? `, latest run ${card.runs[0].status}` : ""}`}
      data-card-id={card.id}
      data-testid="card"
      onClick={() => onOpen(card.id)}
      onKeyDown={(e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          onOpen(card.id);
          return;
        }
        listeners?.onKeyDown?.(e);
      }}
      className="cursor-grab rounded-lg outline-offset-2 active:cursor-grabbing"
    >
      <CardTile card={card} projectName={projectName} dragging={isDragging} />
    </div>
  );
});
