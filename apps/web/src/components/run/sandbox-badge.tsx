import type { RunEventRow } from "@/trpc/types";
import { cn } from "@/components/ui/cn";

interface SandboxPayload {
  confined?: boolean;
  user?: string | null;
  network?: Record<string, string>;
}

/**
 * How the run's processes were confined, from the runner's `runner.sandbox` event: a quiet
 * badge for a sandboxed run, a loud one for a run of a project an admin made unconfined.
 */
export function SandboxBadge({ events }: { events: readonly RunEventRow[] }) {
  const event = events.find((e) => e.type === "runner.sandbox");
  if (!event) return null;
  const p = (event.payload ?? {}) as SandboxPayload;
  const confined = p.confined !== false;
  const network = p.network
    ? Object.entries(p.network)
        .map(([phase, mode]) => `${phase}: ${mode}`)
        .join(", ")
    : "";
  return (
    <span
      data-testid="sandbox-badge"
      title={
        confined
          ? `Every process ran in a sandbox as ${p.user ?? "an unprivileged user"}; network ${network}`
          : "This project runs without a sandbox: its processes had the runner's rights (an admin's choice)"
      }
      className={cn(
        "rounded-full px-2.5 py-0.5 text-xs font-medium",
        confined
          ? "bg-zinc-100 text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300"
          : "bg-amber-100 text-amber-900 ring-1 ring-amber-400 dark:bg-amber-950 dark:text-amber-200",
      )}
    >
      {confined ? "sandboxed" : "UNCONFINED"}
    </span>
  );
}
