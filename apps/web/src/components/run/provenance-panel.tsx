"use client";

import type { ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { z } from "zod";
import { useTRPC } from "@/trpc/react";
import type { Provenance } from "@/trpc/types";
import { errorMessage } from "@/lib/errors";
import { formatCost, formatDateTime, formatDuration, formatTime, formatTokens } from "@/lib/format";
import { Spinner } from "@/components/ui/states";

const zDiffStat = z.object({ files: z.number(), additions: z.number(), deletions: z.number() });
// Decision payloads differ by event type; only what a reader needs is picked out, and only
// when it has the expected shape.
const zDecisionPayload = z.object({
  reason: z.string().nullish(),
  itemKey: z.string().optional(),
  mergeCommit: z.string().optional(),
  passed: z.boolean().optional(),
  files: z.array(z.string()).optional(),
});

/**
 * Where the run's result came from and who decided what about it: the exact prompt, engine
 * and model, the diff's hash, what it cost, and every decision (created, validated,
 * rejected, merged, aborted) with who and why. It is the record a reviewer audits later.
 */
export function ProvenancePanel({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.run.provenance.queryOptions({ runId }));
  return (
    <section aria-labelledby="provenance" className="rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800" data-testid="provenance">
      <h2 id="provenance" className="mb-2 text-sm font-semibold">
        Provenance
      </h2>
      {q.isLoading ? <Spinner label="Loading the provenance" /> : null}
      {q.error ? (
        <p role="alert" className="text-xs text-red-700 dark:text-red-400">
          Could not load the provenance: {errorMessage(q.error)}{" "}
          <button type="button" className="underline" onClick={() => void q.refetch()}>
            Try again
          </button>
        </p>
      ) : null}
      {q.data ? <ProvenanceBody p={q.data} /> : null}
    </section>
  );
}

function ProvenanceBody({ p }: { p: Provenance }) {
  const stat = zDiffStat.safeParse(p.diffStat);
  const rows: [string, ReactNode][] = [
    ["Engine", `${p.engine}${p.model ? ` · ${p.model}` : ""}`],
    ...(p.command
      ? ([
          [
            "Command",
            <code key="c" className="break-all">
              {p.command}
            </code>,
          ],
        ] as [string, ReactNode][])
      : []),
    ["Workflow", p.workflow?.name ?? "—"],
    ["Runner", p.runner ? `${p.runner.name}${p.runner.hostname ? ` (${p.runner.hostname})` : ""} · attempt ${p.attempt}` : "—"],
    [
      "Diff",
      p.diffHash ? (
        <span key="d">
          <code title={p.diffHash}>{p.diffHash.slice(0, 16)}</code>
          {stat.success ? ` · ${stat.data.files} files +${stat.data.additions} −${stat.data.deletions}` : ""}
        </span>
      ) : (
        "—"
      ),
    ],
    [
      "Cost",
      `${formatCost(p.cost.usd)} · ${formatTokens(p.cost.tokensIn)} in · ` +
        `${formatTokens(p.cost.tokensOut)} out · ${p.cost.toolCalls} tool calls · ${formatDuration(p.cost.durationMs)}`,
    ],
    ["Created", `${p.createdBy ?? "?"} · ${formatDateTime(p.timestamps.createdAt)}`],
  ];
  if (p.merge) rows.push(["Merged", `${p.merge.by} · ${formatDateTime(p.merge.at)}${p.merge.commit ? ` · ${p.merge.commit.slice(0, 12)}` : ""}`]);
  if (p.closed) rows.push([p.closed.status === "aborted" ? "Aborted" : "Closed", `${p.closed.by}${p.closed.reason ? ` — “${p.closed.reason}”` : ""}`]);
  if (p.cancelRequested) rows.push(["Cancel asked", `${p.cancelRequested.by ?? "?"} · ${formatDateTime(p.cancelRequested.at)}`]);
  if (p.error) rows.push(["Error", `${p.error.reason ? `${p.error.reason}: ` : ""}${p.error.message}`]);

  return (
    <>
      <dl className="space-y-1 text-xs">
        {rows.map(([k, v]) => (
          <div key={k} className="flex gap-2">
            <dt className="w-20 shrink-0 text-zinc-500">{k}</dt>
            <dd className="min-w-0 break-words" data-provenance={k}>
              {v}
            </dd>
          </div>
        ))}
      </dl>
      <details className="mt-3 text-xs">
        <summary className="cursor-pointer font-medium">Prompt</summary>
        <pre className="mt-1 max-h-64 overflow-auto rounded bg-zinc-50 p-2 whitespace-pre-wrap dark:bg-zinc-950">{p.prompt}</pre>
      </details>
      <details className="mt-2 text-xs">
        <summary className="cursor-pointer font-medium">Decisions ({p.decisions.length})</summary>
        {p.decisions.length === 0 ? (
          <p className="mt-1 text-zinc-500">None yet.</p>
        ) : (
          <ol className="mt-1 space-y-1" data-testid="provenance-decisions">
            {p.decisions.map((d) => (
              <li key={d.seq} className="flex gap-2">
                <time className="w-16 shrink-0 font-mono text-zinc-400" dateTime={d.createdAt.toISOString()} title={formatDateTime(d.createdAt)}>
                  {formatTime(d.createdAt)}
                </time>
                <span className="min-w-0">
                  <span className="font-mono">{d.type}</span> <span className="text-zinc-500">{d.actor}</span>
                  <DecisionNote payload={d.payload} />
                </span>
              </li>
            ))}
          </ol>
        )}
      </details>
    </>
  );
}

function DecisionNote({ payload }: { payload: unknown }) {
  const r = zDecisionPayload.safeParse(payload);
  if (!r.success) return null;
  const { reason, itemKey, mergeCommit, passed, files } = r.data;
  const parts = [
    itemKey ? `item ${itemKey}` : null,
    mergeCommit ? `commit ${mergeCommit.slice(0, 12)}` : null,
    passed === undefined ? null : passed ? "passed" : "failed",
    files?.length ? `files ${files.join(", ")}` : null,
    reason ? `“${reason}”` : null,
  ].filter((x): x is string => x !== null);
  return parts.length ? <span className="block break-words text-zinc-600 dark:text-zinc-300">{parts.join(" · ")}</span> : null;
}
