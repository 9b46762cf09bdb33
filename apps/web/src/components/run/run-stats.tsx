"use client";

import { useEffect, useState } from "react";
import type { RunDetail, RunEventRow } from "@/trpc/types";
import { formatCost, formatDuration, formatTokens, stringsOf } from "@/lib/format";
import { ACTIVE } from "@/lib/run-status";
import { countToolCalls, latestUsage } from "./log-items";

/** Duration, tokens, cost, tool calls, files: final figures once the run is done, live before. */
export function RunStats({ run, events }: { run: RunDetail; events: RunEventRow[] }) {
  const running = ACTIVE.includes(run.status);
  const now = useNow(running ? 1000 : null);
  const usage = latestUsage(events);
  const finished = run.finishedAt != null;
  const duration = run.durationMs ?? (run.startedAt ? (run.finishedAt ?? new Date(now)).getTime() - run.startedAt.getTime() : null);
  const tokensIn = finished ? run.tokensIn : (usage?.tokensIn ?? run.tokensIn);
  const tokensOut = finished ? run.tokensOut : (usage?.tokensOut ?? run.tokensOut);
  const cost = finished ? run.costUsd : (usage?.costUsd ?? run.costUsd);
  const tools = finished ? run.toolCalls : Math.max(run.toolCalls, countToolCalls(events));
  const files = stringsOf(run.filesChanged);
  const stats = [
    { label: "Duration", value: formatDuration(duration) },
    { label: "Tokens", value: `${formatTokens(tokensIn)} in · ${formatTokens(tokensOut)} out` },
    { label: "Cost", value: formatCost(cost) },
    { label: "Tool calls", value: String(tools) },
    { label: "Files changed", value: run.filesChanged == null ? "—" : String(files.length) },
    { label: "Tests", value: run.testsRun ? (run.testsPassed ? "passed" : "failed") : "—" },
  ];
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6" data-testid="run-stats">
      {stats.map((s) => (
        <div key={s.label} className="rounded-lg bg-white px-3 py-2 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
          <dt className="text-[11px] font-medium text-zinc-500 uppercase">{s.label}</dt>
          <dd className="text-sm font-semibold tabular-nums" data-stat={s.label}>
            {s.value}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function useNow(everyMs: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (everyMs == null) return;
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
