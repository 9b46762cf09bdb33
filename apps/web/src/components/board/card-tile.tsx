import type { CardRow } from "@/trpc/types";
import { stringsOf, formatCost } from "@/lib/format";
import { StatusBadge } from "@/components/ui/status-badge";
import { cn } from "@/components/ui/cn";
import { ATTENTION_LABEL } from "./attention";

const ATTENTION_CLASS = {
  approval: "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300",
  message: "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300",
  failed: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
  review: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
} as const;

/** What a card shows on the board; shared by the list and the drag overlay. */
export function CardTile({ card, projectName, dragging, overlay }: { card: CardRow; projectName?: string; dragging?: boolean; overlay?: boolean }) {
  const run = card.runs[0];
  const labels = stringsOf(card.labels);
  return (
    <div
      className={cn(
        "rounded-lg bg-white px-3 py-2.5 text-left shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-700",
        // A run that needs a person stands out on the board.
        run?.attention && "border-l-4 border-l-amber-400 dark:border-l-amber-500",
        dragging && "opacity-40",
        overlay && "rotate-1 shadow-xl ring-2 ring-indigo-400",
      )}
    >
      <p className="line-clamp-3 text-sm font-medium break-words" data-testid="card-title">
        {card.title}
      </p>
      {labels.length > 0 ? (
        <ul className="mt-1.5 flex flex-wrap gap-1" aria-label="Labels">
          {labels.map((l) => (
            <li key={l} className="rounded bg-zinc-100 px-1.5 py-0.5 text-[11px] text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300">
              {l}
            </li>
          ))}
        </ul>
      ) : null}
      <div className="mt-2 flex items-center justify-between gap-2 text-xs text-zinc-500">
        <span className="truncate">{projectName ?? ""}</span>
        {run ? (
          <span className="flex shrink-0 items-center gap-1.5" data-testid="card-run">
            {run.pendingApprovals > 0 ? (
              <span
                className="rounded bg-amber-100 px-1.5 py-0.5 font-medium text-amber-800 dark:bg-amber-950 dark:text-amber-300"
                data-testid="card-awaiting-approval"
              >
                needs approval
              </span>
            ) : run.attention ? (
              <span
                className={cn("rounded px-1.5 py-0.5 font-medium", ATTENTION_CLASS[run.attention])}
                data-testid="card-attention"
                data-attention={run.attention}
                title="This run needs a person"
              >
                {ATTENTION_LABEL[run.attention]}
              </span>
            ) : null}
            {run.costUsd > 0 ? <span>{formatCost(run.costUsd)}</span> : null}
            <StatusBadge status={run.status} />
          </span>
        ) : null}
      </div>
    </div>
  );
}
