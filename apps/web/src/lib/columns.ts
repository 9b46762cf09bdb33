import type { CardColumn } from "@/trpc/types";

export const COLUMNS = [
  { id: "backlog", title: "Backlog" },
  { id: "todo", title: "Todo" },
  { id: "in_progress", title: "In progress" },
  { id: "in_review", title: "In review" },
  { id: "done", title: "Done" },
] as const satisfies readonly { id: CardColumn; title: string }[];

export const COLUMN_IDS: readonly CardColumn[] = COLUMNS.map((c) => c.id);

export function isColumn(value: unknown): value is CardColumn {
  return typeof value === "string" && (COLUMN_IDS as readonly string[]).includes(value);
}

export function columnTitle(id: CardColumn): string {
  return COLUMNS.find((c) => c.id === id)?.title ?? id;
}
