import type { RunStatus } from "@/trpc/types";
import { ACTIVE, statusClass } from "@/lib/run-status";
import { cn } from "./cn";

export function StatusBadge({ status, className }: { status: RunStatus; className?: string }) {
  return (
    <span
      data-status={status}
      className={cn("inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset", statusClass(status), className)}
    >
      {ACTIVE.includes(status) ? <span className="animate-pulse-dot size-1.5 rounded-full bg-current" aria-hidden /> : null}
      {status}
    </span>
  );
}
