import type { RunStatus } from "@/trpc/types";

export const ACTIVE: readonly RunStatus[] = ["claimed", "running"];
export const CANCELLABLE: readonly RunStatus[] = ["queued", "claimed", "running"];

const styles: Record<RunStatus, string> = {
  queued: "bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-600",
  claimed: "bg-sky-50 text-sky-700 ring-sky-300 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800",
  running: "bg-blue-50 text-blue-700 ring-blue-300 dark:bg-blue-950 dark:text-blue-300 dark:ring-blue-800",
  succeeded: "bg-emerald-50 text-emerald-700 ring-emerald-300 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800",
  failed: "bg-red-50 text-red-700 ring-red-300 dark:bg-red-950 dark:text-red-300 dark:ring-red-800",
  cancelled: "bg-amber-50 text-amber-800 ring-amber-300 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800",
  merged: "bg-violet-50 text-violet-700 ring-violet-300 dark:bg-violet-950 dark:text-violet-300 dark:ring-violet-800",
  aborted: "bg-zinc-100 text-zinc-600 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-400 dark:ring-zinc-600",
};

export function statusClass(status: RunStatus): string {
  return styles[status];
}

/** Run events whose type is a status: `run.started` → running, and so on. */
const statusOfEvent: Record<string, RunStatus> = {
  "run.queued": "queued",
  "run.requeued": "queued",
  "run.claimed": "claimed",
  "run.started": "running",
  "run.succeeded": "succeeded",
  "run.failed": "failed",
  "run.cancelled": "cancelled",
  "run.merged": "merged",
  "run.aborted": "aborted",
};

export function statusFromEventType(type: string): RunStatus | undefined {
  return statusOfEvent[type];
}
