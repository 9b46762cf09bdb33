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
  onMoveKey: (cardId: string, key: "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown") => void;
}

const MOVE_KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"] as const;
const isMoveKey = (k: string): k is (typeof MOVE_KEYS)[number] => (MOVE_KEYS as readonly string[]).includes(k);

/**
 * A draggable card. Space picks it up for a keyboard move (arrows, Space to drop, Escape
 * to cancel), Alt+arrows move it a column or a place at once; Enter and a click open it.
 */
export const SortableCard = memo(function SortableCard({ card, projectName, disabled, onOpen, onMoveKey }: Props) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id: card.id, disabled });
  return (
    // biome-ignore lint/a11y/useSemanticElements: the tile is block content, which a <button> may not hold; the role and tabIndex make it one.
    <div
      ref={setNodeRef}
      style={{ transform: CSS.Translate.toString(transform), transition }}
      // Read-only sessions get a plain button that opens the card: no drag handle to announce.
      // dnd-kit's attributes say role="button" and tabIndex 0 too.
      role="button"
      tabIndex={0}
      {...(disabled ? {} : { ...attributes, ...listeners })}
      aria-roledescription={disabled ? undefined : "draggable card"}
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
        if (e.altKey && !disabled && isMoveKey(e.key)) {
          e.preventDefault();
          onMoveKey(card.id, e.key);
          return;
        }
        if (!disabled) listeners?.onKeyDown?.(e);
      }}
      className="cursor-grab rounded-lg outline-offset-2 active:cursor-grabbing"
    >
      <CardTile card={card} projectName={projectName} dragging={isDragging} />
    </div>
  );
});
