"use client";

import { useEffect, useId, useState } from "react";
import { useRouter } from "next/navigation";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { z } from "zod";
import { useTRPC } from "@/trpc/react";
import type { Mergeability, RunDetail } from "@/trpc/types";
import { useSession } from "@/components/session/use-session";
import { can } from "@/lib/roles";
import { errorDetails, errorMessage, errorReason, toastError } from "@/lib/errors";
import { formatDateTime, formatDuration } from "@/lib/format";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/states";
import { cn } from "@/components/ui/cn";
import { describeCleanup } from "./cleanup-summary";
import { useRefreshRun } from "./use-refresh-run";

const panelClass = "rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800";

/**
 * The merge gate and, for admins, the merge button. The gate is `run.mergeability`: every
 * reason `run.merge` would refuse with, at once, so the button is disabled exactly when a
 * merge cannot succeed — except for conflicts and re-verification failures, which only
 * trying can find; those come back as the merge's error and are shown here in full. A
 * re-verifying merge is work for a runner: the panel follows the request (waiting,
 * running, refused with the runner's evidence) and can cancel it.
 */
export function MergePanel({ run }: { run: RunDetail }) {
  if (run.status === "merged") return <MergedSummary run={run} />;
  if (run.status === "aborted") return <AbortedSummary run={run} />;
  return <MergeGate run={run} />;
}

function MergedSummary({ run }: { run: RunDetail }) {
  return (
    <section aria-labelledby="merge" className={cn(panelClass, "ring-violet-300 dark:ring-violet-800")} data-testid="merge-panel" data-state="merged">
      <h2 id="merge" className="text-sm font-semibold">
        Merged
      </h2>
      <p className="mt-1 text-sm" data-testid="merge-result">
        <code>{run.branch}</code> was merged into <code>{run.baseBranch}</code> by {run.mergedBy ?? "?"}
        {run.mergedAt ? ` · ${formatDateTime(run.mergedAt)}` : ""}
      </p>
      {run.mergeCommit ? (
        <p className="mt-1 text-xs text-zinc-500">
          merge commit <code title={run.mergeCommit}>{run.mergeCommit.slice(0, 12)}</code>
        </p>
      ) : null}
    </section>
  );
}

function AbortedSummary({ run }: { run: RunDetail }) {
  return (
    <section aria-labelledby="merge" className={panelClass} data-testid="merge-panel" data-state="aborted">
      <h2 id="merge" className="text-sm font-semibold">
        Aborted
      </h2>
      <p className="mt-1 text-sm">
        Aborted by {run.closedBy ?? "?"}
        {run.abortedAt ? <span data-testid="aborted-at"> · {formatDateTime(run.abortedAt)}</span> : ""}. Its worktree and branch are removed; nothing was
        merged.
      </p>
      {run.closedReason ? <p className="mt-1 text-sm whitespace-pre-wrap text-zinc-600 dark:text-zinc-300">“{run.closedReason}”</p> : null}
    </section>
  );
}

function MergeGate({ run }: { run: RunDetail }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const refresh = useRefreshRun(run.id);
  const { session } = useSession();
  const isAdmin = can(session, "admin", run.workspaceId);
  const gate = useQuery({
    ...trpc.run.mergeability.queryOptions({ runId: run.id }),
    // While a runner re-verifies, follow the request until it ends (merged or refused).
    refetchInterval: (q) => (isOpen(q.state.data?.verification) ? 1_000 : false),
  });
  const [reverify, setReverify] = useState(false);
  const [cleanup, setCleanup] = useState(true);
  const [failure, setFailure] = useState<unknown>(null);
  const reasonsId = useId();

  const merge = useMutation(
    trpc.run.merge.mutationOptions({
      onMutate: () => setFailure(null),
      onSuccess: (r) => {
        if (r.status === "verifying" || !r.merge) {
          toast.info("Re-verifying on a runner", {
            description: `the merge happens once a runner has run the checks on ${run.baseBranch} merged into the branch`,
          });
          void gate.refetch();
          return;
        }
        toast.success(`Merged into ${r.run.baseBranch}`, {
          description:
            `${r.merge.status === "already-merged" ? "already contained in the base" : `merge commit ${r.merge.mergeCommit.slice(0, 12)}`} ` +
            `· ${describeCleanup(r.cleanup)}`,
        });
        refresh();
        void qc.invalidateQueries({ queryKey: trpc.card.list.queryKey({ boardId: run.boardId }) });
      },
      onError: (err) => {
        setFailure(err);
        toast.error(`Merge refused${errorReason(err) ? `: ${errorReason(err)}` : ""}`, { description: errorMessage(err) });
        // A refusal often means the gate changed under us (someone rejected evidence): re-read it.
        refresh();
      },
    }),
  );

  const cancel = useMutation(
    trpc.run.cancelVerification.mutationOptions({
      onSuccess: () => {
        toast.success("Re-verification cancelled");
        void gate.refetch();
      },
      onError: (err) => toast.error("Could not cancel", { description: errorMessage(err) }),
    }),
  );

  const g = gate.data;
  const blocked = !g?.canMerge;
  const verification = g?.verification ?? null;
  const verifying = isOpen(verification);
  // The request ended in a merge: the run's own record follows.
  const merged = verification?.status === "merged";
  useEffect(() => {
    if (merged) refresh();
  }, [merged, refresh]);
  return (
    <section aria-labelledby="merge" className={panelClass} data-testid="merge-panel" data-state={g ? (g.canMerge ? "ready" : "blocked") : "loading"}>
      <h2 id="merge" className="text-sm font-semibold">
        Merge
      </h2>
      <p className="mt-0.5 text-xs text-zinc-500">
        <code className="break-all">{run.branch}</code> → <code>{run.baseBranch}</code>, as a merge commit (<code className="whitespace-nowrap">--no-ff</code>)
      </p>

      <div className="mt-3" id={reasonsId}>
        {gate.isLoading ? <Spinner label="Checking the gate" /> : null}
        {gate.error ? (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            Could not check the gate: {errorMessage(gate.error)}{" "}
            <button type="button" className="underline" onClick={() => void gate.refetch()}>
              Try again
            </button>
          </p>
        ) : null}
        {g ? <GateReasons gate={g} /> : null}
        {g ? <BaseState gate={g} run={run} /> : null}
      </div>

      {isAdmin ? (
        <div className="mt-3 space-y-2 border-t border-zinc-100 pt-3 dark:border-zinc-800">
          <label className="flex items-start gap-2 text-xs">
            <input type="checkbox" className="mt-0.5" checked={reverify} onChange={(e) => setReverify(e.target.checked)} />
            <span>
              Re-verify on the integrated state
              <span className="block text-zinc-500">
                {g && g.reverifiableChecks > 0
                  ? `merges ${run.baseBranch} into the branch in a scratch copy and runs ` +
                    `${g.reverifiableChecks} ${g.reverifiableChecks === 1 ? "check" : "checks"} there first, ` +
                    `in a sandbox`
                  : `merges ${run.baseBranch} into the branch in a scratch copy first (this run has no automatic checks)`}
              </span>
            </span>
          </label>
          <label className="flex items-start gap-2 text-xs">
            <input type="checkbox" className="mt-0.5" checked={cleanup} onChange={(e) => setCleanup(e.target.checked)} />
            <span>Remove the worktree and delete the branch afterwards</span>
          </label>
          <Button
            variant="primary"
            className="w-full"
            disabled={blocked || merge.isPending}
            aria-describedby={reasonsId}
            onClick={() => {
              // Like cancel and abort, a merge asks first: it lands the work on the base branch.
              const then = reverify ? " once a runner has re-verified it" : "";
              const after = cleanup ? " Its worktree and branch are removed afterwards." : "";
              if (window.confirm(`Merge ${run.branch} into ${run.baseBranch}${then}?${after}`)) merge.mutate({ runId: run.id, reverify, cleanup });
            }}
            data-testid="merge-button"
          >
            {merge.isPending ? (reverify ? "Asking a runner to re-verify…" : "Merging…") : verifying ? "Re-verifying…" : `Merge into ${run.baseBranch}`}
          </Button>
          {verifying ? (
            <Button
              variant="secondary"
              className="w-full"
              disabled={cancel.isPending}
              onClick={() => cancel.mutate({ runId: run.id })}
              data-testid="cancel-verification"
            >
              Cancel the re-verification
            </Button>
          ) : null}
        </div>
      ) : null}

      {verification ? <VerificationState verification={verification} /> : null}
      {failure ? <MergeFailure error={failure} run={run} onDismiss={() => setFailure(null)} /> : null}
    </section>
  );
}

const REASON_LABEL: Record<string, string> = {
  FORBIDDEN: "Admins only",
  INVALID_STATE: "Run not mergeable",
  DOD_INCOMPLETE: "Definition of Done incomplete",
  REPOSITORY_UNAVAILABLE: "Repository not here",
  BRANCH_MISSING: "Branch missing",
  INDEPENDENT_REVIEW: "Four eyes",
  VERIFYING: "Re-verifying",
  MERGE_CONFLICT: "Conflicts with the base",
  NOT_THREAD_HEAD: "Superseded",
};

type Verification = NonNullable<Mergeability["verification"]>;

const isOpen = (v: Verification | null | undefined) => v?.status === "queued" || v?.status === "claimed";

// What a runner reported (docs/dod-and-merge.md), checked before it is shown.
const zCheckRun = z.object({
  key: z.string(),
  title: z.string(),
  command: z.string(),
  required: z.boolean(),
  passed: z.boolean(),
  exitCode: z.number().nullable(),
  timedOut: z.boolean(),
  durationMs: z.number(),
  output: z.string(),
});
const zReport = z.object({ conflict: z.array(z.string()).nullable().optional(), setup: zCheckRun.nullable(), checks: z.array(zCheckRun) });

/** The latest re-verification: waiting for a runner, running, or why it refused the merge. */
function VerificationState({ verification: v }: { verification: Verification }) {
  if (v.status === "merged") return null;
  if (v.status === "queued" || v.status === "claimed") {
    return (
      <p className="mt-3 text-sm text-zinc-700 dark:text-zinc-300" data-testid="verification" data-status={v.status} role="status">
        <Spinner label="" />{" "}
        {v.status === "queued"
          ? `Waiting for a runner to re-verify ${v.baseCommit.slice(0, 8)} merged into ${v.branchCommit.slice(0, 8)}…`
          : `A runner is re-verifying ${v.baseCommit.slice(0, 8)} merged into ${v.branchCommit.slice(0, 8)}${v.attempt > 1 ? ` (attempt ${v.attempt})` : ""}…`}
      </p>
    );
  }
  if (v.status === "cancelled") {
    return (
      <p className="mt-3 text-xs text-zinc-500" data-testid="verification" data-status="cancelled">
        The last re-verification was cancelled; nothing was merged.
      </p>
    );
  }
  const report = zReport.safeParse(v.report);
  const failed = report.success ? [report.data.setup, ...report.data.checks].filter((c) => c !== null && !c.passed) : [];
  return (
    <div
      role="alert"
      className="mt-3 rounded-lg bg-red-50 p-3 text-sm text-red-900 ring-1 ring-red-200 dark:bg-red-950 dark:text-red-100 dark:ring-red-900"
      data-testid="merge-error"
      data-reason={v.reason ?? undefined}
    >
      <p className="font-medium">
        {v.reason ? <span className="font-mono">{v.reason}: </span> : null}
        {v.message}
      </p>
      {report.success && report.data.conflict ? (
        <ul className="mt-1 list-disc pl-5 font-mono text-xs" data-testid="merge-conflict-files">
          {report.data.conflict.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      ) : null}
      {failed.length > 0 ? (
        <ul className="mt-2 space-y-2" data-testid="reverify-failed">
          {failed.map((c) =>
            c ? (
              <li key={c.key} className="text-xs">
                <p>
                  <span className="font-medium">{c.title}</span> <code>$ {c.command}</code> —{" "}
                  {c.timedOut ? "timed out" : c.exitCode === null ? "killed" : `exit ${c.exitCode}`} after {formatDuration(c.durationMs)}
                </p>
                {c.output ? (
                  <details>
                    <summary className="cursor-pointer">Output (tail)</summary>
                    <pre className="mt-1 max-h-48 overflow-auto rounded bg-zinc-900 p-2 font-mono text-[11px] whitespace-pre-wrap text-zinc-100">
                      {c.output}
                    </pre>
                  </details>
                ) : null}
              </li>
            ) : null,
          )}
        </ul>
      ) : null}
    </div>
  );
}

const zFiles = z.object({ files: z.array(z.string()) });
const zStale = z.object({ stale: z.literal(true), checksToRerun: z.array(z.string()) });
const filesOf = (details: unknown) => {
  const p = zFiles.safeParse(details);
  return p.success ? p.data.files : [];
};
const staleOf = (details: unknown) => {
  const p = zStale.safeParse(details);
  return p.success ? p.data : null;
};

/**
 * The base against the branch (`run.mergeability`'s `base`): a warning when the base has
 * moved since the run's head, and the two ways forward — bring the base in on the server,
 * or, when it conflicts, ask the agent to resolve. Only for the thread's latest run.
 */
function BaseState({ gate, run }: { gate: Mergeability; run: RunDetail }) {
  const base = gate.base;
  if (!base || gate.reasons.some((r) => r.reason === "NOT_THREAD_HEAD")) return null;
  const conflicting = base.conflicts.length > 0;
  if (base.behind === 0) return null;
  return (
    <div
      className="mt-3 rounded-lg bg-amber-50 p-3 text-sm text-amber-900 ring-1 ring-amber-200 dark:bg-amber-950 dark:text-amber-100 dark:ring-amber-900"
      data-testid="base-moved"
      data-behind={base.behind}
    >
      <p>
        ⚠ <code>{run.baseBranch}</code> has moved: {base.behind} new {base.behind === 1 ? "commit" : "commits"} since this branch was based on it (now at{" "}
        <code>{base.baseCommit.slice(0, 7)}</code>). The run&apos;s checks ran without {base.behind === 1 ? "it" : "them"}
        {conflicting ? `, and merging would conflict in ${base.conflicts.length} ${base.conflicts.length === 1 ? "file" : "files"}.` : "; they merge cleanly."}
      </p>
      <WaysForward run={run} conflicting={conflicting} />
    </div>
  );
}

/** Update from the base (a server-side merge into the branch) and, on conflicts, the agent resolving them. Members only. */
function WaysForward({ run, conflicting }: { run: RunDetail; conflicting: boolean }) {
  const trpc = useTRPC();
  const router = useRouter();
  const refresh = useRefreshRun(run.id);
  const { session } = useSession();
  const [files, setFiles] = useState<string[] | null>(null);
  const update = useMutation(
    trpc.run.updateFromBase.mutationOptions({
      onSuccess: (r) => {
        setFiles(null);
        toast.success(
          r.status === "updated"
            ? `${run.baseBranch} merged into the branch: evidence is asked for again on the new head`
            : `The branch already has everything of ${run.baseBranch}`,
        );
        refresh();
      },
      onError: (err) => {
        const listed = zFiles.safeParse(errorDetails(err));
        if (errorReason(err) === "MERGE_CONFLICT" && listed.success) setFiles(listed.data.files);
        else toastError("Could not update from the base")(err);
        refresh();
      },
    }),
  );
  const resolve = useMutation(
    trpc.run.resolveConflicts.mutationOptions({
      onSuccess: (next) => {
        toast.success("The agent is resolving the conflicts");
        router.push(`/runs/${next.id}`);
      },
      onError: toastError("Could not hand the conflicts to the agent"),
    }),
  );
  if (!can(session, "member", run.workspaceId)) return null;
  return (
    <div className="mt-2 flex flex-wrap items-center gap-2" data-testid="merge-ways-forward">
      <Button size="sm" onClick={() => update.mutate({ runId: run.id })} disabled={update.isPending} data-testid="merge-update-from-base">
        {update.isPending ? "Merging the base in…" : `Update from ${run.baseBranch}`}
      </Button>
      {conflicting || files ? (
        <Button
          size="sm"
          variant="primary"
          onClick={() => resolve.mutate({ runId: run.id })}
          disabled={resolve.isPending}
          data-testid="merge-resolve-conflicts"
        >
          Ask the agent to resolve
        </Button>
      ) : null}
      {files ? (
        <span role="alert" className="w-full text-xs text-red-700 dark:text-red-300" data-testid="merge-update-conflicts">
          Conflicts in {files.join(", ")}; nothing was changed.
        </span>
      ) : null}
    </div>
  );
}

function GateReasons({ gate }: { gate: Mergeability }) {
  if (gate.canMerge) {
    return (
      <p className="text-sm text-emerald-700 dark:text-emerald-400" data-testid="merge-ready">
        ✓ Ready: the run succeeded and every required item has validated evidence.
      </p>
    );
  }
  return (
    <ul className="space-y-2" data-testid="merge-reasons" aria-label="Why this run cannot be merged yet">
      {gate.reasons.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a reason can be given more than once; the list is read-only and replaced whole.
        <li key={`${r.reason}-${i}`} className="text-sm" data-reason={r.reason}>
          <span className="block text-xs font-semibold text-amber-800 dark:text-amber-300">{REASON_LABEL[r.reason] ?? r.reason}</span>
          {r.reason === "VERIFYING" ? (
            <span className="text-zinc-700 dark:text-zinc-300">{r.message}</span>
          ) : r.reason === "MERGE_CONFLICT" ? (
            <span className="text-zinc-700 dark:text-zinc-300">
              {r.message}
              <ul className="mt-1 list-disc pl-5 font-mono text-xs" data-testid="merge-conflict-files">
                {filesOf(r.details).map((f) => (
                  <li key={f}>{f}</li>
                ))}
              </ul>
            </span>
          ) : r.reason === "DOD_INCOMPLETE" && staleOf(r.details) ? (
            <span className="text-zinc-700 dark:text-zinc-300" data-testid="stale-evidence">
              The branch moved since this evidence was given; {r.message}
              {staleOf(r.details)!.checksToRerun.length > 0 ? (
                <span className="block text-xs text-zinc-500">
                  Automatic checks ({staleOf(r.details)!.checksToRerun.join(", ")}) ran on the old head: give evidence on the new head, or send a follow-up,
                  whose runner runs them again.
                </span>
              ) : null}
            </span>
          ) : r.reason === "DOD_INCOMPLETE" ? (
            <span className="text-zinc-700 dark:text-zinc-300">
              Missing validated evidence:{" "}
              {gate.missing.map((m, i) => (
                <span key={m.itemId}>
                  {i ? ", " : ""}
                  {m.title} <span className="text-xs text-zinc-500">({m.status})</span>
                </span>
              ))}
            </span>
          ) : (
            <span className="text-zinc-700 dark:text-zinc-300">{r.message}</span>
          )}
        </li>
      ))}
    </ul>
  );
}

// The error details `run.merge` documents (docs/dod-and-merge.md), checked before they are shown.
const zConflict = z.object({ files: z.array(z.string()), stage: z.string().optional() });
const zReverifyFailed = z.object({
  failed: z.array(
    z.object({
      key: z.string(),
      title: z.string(),
      command: z.string(),
      exitCode: z.number().nullable(),
      timedOut: z.boolean().optional(),
      durationMs: z.number().optional(),
      output: z.string(),
    }),
  ),
});
const zIncomplete = z.object({ missing: z.array(z.object({ key: z.string(), title: z.string(), status: z.string() })) });

function MergeFailure({ error, run, onDismiss }: { error: unknown; run: RunDetail; onDismiss: () => void }) {
  const reason = errorReason(error);
  const details = errorDetails(error);
  const conflict = reason === "MERGE_CONFLICT" ? zConflict.safeParse(details) : null;
  const reverify = reason === "REVERIFY_FAILED" ? zReverifyFailed.safeParse(details) : null;
  const incomplete = reason === "DOD_INCOMPLETE" ? zIncomplete.safeParse(details) : null;
  return (
    <div
      role="alert"
      className="mt-3 rounded-lg bg-red-50 p-3 text-sm text-red-900 ring-1 ring-red-200 dark:bg-red-950 dark:text-red-100 dark:ring-red-900"
      data-testid="merge-error"
      data-reason={reason}
    >
      <div className="flex items-start gap-2">
        <p className="flex-1 font-medium">
          {reason ? <span className="font-mono">{reason}: </span> : null}
          {errorMessage(error)}
        </p>
        <button
          type="button"
          onClick={onDismiss}
          className="rounded px-1 text-red-700 hover:bg-red-100 dark:text-red-300 dark:hover:bg-red-900"
          aria-label="Dismiss the merge error"
        >
          ✕
        </button>
      </div>
      {conflict?.success ? (
        <div className="mt-2">
          <p className="text-xs">
            {conflict.data.stage === "reverify"
              ? "The base does not merge cleanly into the branch; conflicting files:"
              : "Conflicting files (the base branch is unchanged):"}
          </p>
          <ul className="mt-1 list-disc pl-5 font-mono text-xs" data-testid="merge-conflict-files">
            {conflict.data.files.map((f) => (
              <li key={f}>{f}</li>
            ))}
          </ul>
          <WaysForward run={run} conflicting />
        </div>
      ) : null}
      {reverify?.success ? (
        <ul className="mt-2 space-y-2">
          {reverify.data.failed.map((c) => (
            <li key={c.key} className="text-xs">
              <p>
                <span className="font-medium">{c.title}</span> <code>$ {c.command}</code> —{" "}
                {c.timedOut ? "timed out" : c.exitCode === null ? "killed" : `exit ${c.exitCode}`}
                {c.durationMs != null ? ` after ${formatDuration(c.durationMs)}` : ""}
              </p>
              {c.output ? (
                <details>
                  <summary className="cursor-pointer">Output (tail)</summary>
                  <pre className="mt-1 max-h-48 overflow-auto rounded bg-zinc-900 p-2 font-mono text-[11px] whitespace-pre-wrap text-zinc-100">{c.output}</pre>
                </details>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {incomplete?.success ? <p className="mt-1 text-xs">Missing: {incomplete.data.missing.map((m) => `${m.title} (${m.status})`).join(", ")}</p> : null}
    </div>
  );
}
