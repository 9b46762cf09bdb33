import type { RunEventRow } from "@/trpc/types";
import { formatTime } from "@/lib/format";
import { statusFromEventType } from "@/lib/run-status";
import { StatusBadge } from "@/components/ui/status-badge";

/** Every status the run went through, who moved it there, and when. */
export function StatusHistory({ events }: { events: RunEventRow[] }) {
  const steps = events.filter((e) => e.type.startsWith("run."));
  return (
    <section aria-labelledby="status-history" className="rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
      <h2 id="status-history" className="mb-2 text-sm font-semibold">
        Status history
      </h2>
      {steps.length === 0 ? <p className="text-sm text-zinc-500">Nothing yet.</p> : null}
      <ol className="space-y-1.5" data-testid="status-history">
        {steps.map((e) => {
          const status = statusFromEventType(e.type);
          return (
            <li key={e.seq} className="flex items-center gap-2 text-xs">
              <time className="w-16 font-mono text-zinc-400" dateTime={e.createdAt.toISOString()}>
                {formatTime(e.createdAt)}
              </time>
              {status ? <StatusBadge status={status} /> : <span className="font-mono">{e.type.slice(4)}</span>}
              <span className="truncate text-zinc-500">{e.actor}</span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
