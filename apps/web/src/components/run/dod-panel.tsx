import type { RunDetail } from "@/trpc/types";
import { cn } from "@/components/ui/cn";

/**
 * The run's Definition of Done, read-only for now. Evidence, validation and the merge gate
 * (issue 5) build on this panel: it receives the whole run.
 */
export function DodPanel({ run }: { run: RunDetail }) {
  return (
    <section aria-labelledby="dod" className="rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800" data-slot="dod-panel">
      <h2 id="dod" className="mb-2 text-sm font-semibold">
        Definition of Done
      </h2>
      {run.dodItems.length === 0 ? <p className="text-sm text-zinc-500">This run has no checklist.</p> : null}
      <ul className="space-y-1.5">
        {run.dodItems.map((item) => (
          <li key={item.id} className="flex items-center gap-2 text-sm">
            <span
              aria-label={item.status}
              className={cn(
                "inline-block size-3 shrink-0 rounded-full ring-1 ring-inset",
                item.status === "validated" ? "bg-emerald-500 ring-emerald-600" : item.status === "failed" ? "bg-red-500 ring-red-600" : item.status === "done" ? "bg-sky-400 ring-sky-500" : "ring-zinc-400",
              )}
            />
            <span className="flex-1">{item.title}</span>
            {item.required ? null : <span className="text-xs text-zinc-500">optional</span>}
            <span className="text-xs text-zinc-500">{item.evidence.length ? `${item.evidence.length} evidence` : item.status}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
