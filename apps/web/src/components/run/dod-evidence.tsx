"use client";

import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC, useTRPCClient } from "@/trpc/react";
import type { DodEvidence } from "@/trpc/types";
import { errorMessage, toastError } from "@/lib/errors";
import { formatBytes, formatDateTime, formatDuration } from "@/lib/format";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { RejectDialog } from "./reject-dialog";
import { useRefreshRun } from "./use-refresh-run";

type Decision = "validated" | "rejected" | "waiting";

function decisionOf(e: DodEvidence): Decision {
  if (e.rejectedAt) return "rejected";
  if (e.validatedAt) return "validated";
  return "waiting";
}

const isFailingCheck = (e: DodEvidence) => e.kind === "check" && e.exitCode !== 0;

/**
 * One piece of evidence: what it is (by kind), who added it, the decision on it (who, when,
 * why) and, for members and admins while the run is open, validate and reject.
 */
export function EvidenceEntry({ evidence: e, itemTitle, canDecide }: { evidence: DodEvidence; itemTitle: string; canDecide: boolean }) {
  const trpc = useTRPC();
  const refresh = useRefreshRun(e.runId);
  const [rejecting, setRejecting] = useState(false);
  const decision = decisionOf(e);
  const validate = useMutation(
    trpc.dod.validate.mutationOptions({
      onSuccess: () => {
        toast.success(`Validated: ${itemTitle}`);
        refresh();
      },
      onError: toastError("Could not validate the evidence"),
    }),
  );
  // A failing check is evidence against the item: the server refuses to validate it.
  const canValidate = canDecide && decision !== "validated" && !isFailingCheck(e);
  const canReject = canDecide && decision !== "rejected";

  return (
    <li
      className={cn(
        "rounded-lg px-3 py-2 text-sm ring-1 ring-inset",
        decision === "validated"
          ? "bg-emerald-50/60 ring-emerald-200 dark:bg-emerald-950/30 dark:ring-emerald-900"
          : decision === "rejected"
            ? "bg-red-50/60 ring-red-200 dark:bg-red-950/30 dark:ring-red-900"
            : "bg-zinc-50 ring-zinc-200 dark:bg-zinc-950 dark:ring-zinc-800",
      )}
      data-testid="dod-evidence"
      data-kind={e.kind}
      data-decision={decision}
    >
      <div className="flex flex-wrap items-start gap-x-3 gap-y-1">
        <span
          className={
            "mt-0.5 rounded bg-zinc-200/70 px-1.5 py-0.5 text-[10px] font-semibold tracking-wide " +
            "text-zinc-700 uppercase dark:bg-zinc-800 dark:text-zinc-300"
          }
        >
          {e.kind}
        </span>
        <div className="min-w-0 flex-1">
          <EvidenceBody evidence={e} />
        </div>
        {canValidate || canReject ? (
          <div className="flex shrink-0 gap-1.5">
            {canValidate ? (
              <Button size="sm" variant="primary" disabled={validate.isPending} onClick={() => validate.mutate({ evidenceId: e.id })}>
                {validate.isPending ? "Validating…" : "Validate"}
              </Button>
            ) : null}
            {canReject ? (
              <Button size="sm" onClick={() => setRejecting(true)}>
                Reject
              </Button>
            ) : null}
          </div>
        ) : null}
      </div>
      <p className="mt-1.5 text-xs text-zinc-500">
        added by {e.createdBy} · <time dateTime={e.createdAt.toISOString()}>{formatDateTime(e.createdAt)}</time>
      </p>
      {decision === "validated" ? (
        <p className="mt-0.5 text-xs text-emerald-700 dark:text-emerald-400" data-testid="evidence-decision">
          ✓ validated by {e.validatedBy} · <time dateTime={e.validatedAt?.toISOString()}>{formatDateTime(e.validatedAt)}</time>
        </p>
      ) : decision === "rejected" ? (
        <p className="mt-0.5 text-xs text-red-700 dark:text-red-400" data-testid="evidence-decision">
          ✕ rejected by {e.rejectedBy} · <time dateTime={e.rejectedAt?.toISOString()}>{formatDateTime(e.rejectedAt)}</time>
          {e.rejectReason ? <span className="block whitespace-pre-wrap text-red-800 dark:text-red-300">“{e.rejectReason}”</span> : null}
        </p>
      ) : isFailingCheck(e) ? (
        <p className="mt-0.5 text-xs text-red-700 dark:text-red-400">the check failed: it counts against the item</p>
      ) : (
        <p className="mt-0.5 text-xs text-sky-700 dark:text-sky-300">waiting for a decision</p>
      )}
      <RejectDialog evidenceId={e.id} runId={e.runId} itemTitle={itemTitle} open={rejecting} onClose={() => setRejecting(false)} />
    </li>
  );
}

function EvidenceBody({ evidence: e }: { evidence: DodEvidence }) {
  switch (e.kind) {
    case "text":
      return <p className="max-h-48 overflow-auto break-words whitespace-pre-wrap">{e.text}</p>;
    case "url":
      return (
        <div className="min-w-0">
          <SafeLink url={e.url} />
          {e.text ? <p className="mt-0.5 break-words whitespace-pre-wrap text-zinc-600 dark:text-zinc-300">{e.text}</p> : null}
        </div>
      );
    case "file":
      return <FileDownload evidence={e} />;
    case "check":
      return <CheckResult evidence={e} />;
  }
}

/** Only http(s) links are clickable: the server checks this too, the page does not rely on it. */
function SafeLink({ url }: { url: string | null }) {
  if (!url) return <span className="text-zinc-500">(no address)</span>;
  let safe = false;
  try {
    const p = new URL(url);
    safe = p.protocol === "http:" || p.protocol === "https:";
  } catch {
    safe = false;
  }
  if (!safe) return <code className="break-all">{url}</code>;
  return (
    <a
      href={url}
      target="_blank"
      rel="noopener noreferrer nofollow"
      className="break-all text-indigo-700 underline-offset-2 hover:underline dark:text-indigo-400"
    >
      {url}
    </a>
  );
}

/**
 * A file's bytes come through `dod.file` (base64) only when asked for: a run page with many
 * files must not load them all. The download is a blob URL under the evidence's display name.
 */
function FileDownload({ evidence: e }: { evidence: DodEvidence }) {
  const client = useTRPCClient();
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const name = e.text ?? "file";
  const download = async () => {
    setState({ busy: true, error: null });
    try {
      const file = await client.dod.file.query({ evidenceId: e.id });
      const binary = atob(file.contentBase64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      const href = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
      const a = document.createElement("a");
      a.href = href;
      a.download = file.name;
      document.body.append(a);
      a.click();
      a.remove();
      // Revoked on the next tick: the click has started the download by then.
      setTimeout(() => URL.revokeObjectURL(href), 0);
      setState({ busy: false, error: null });
    } catch (err) {
      setState({ busy: false, error: errorMessage(err) });
    }
  };
  return (
    <div>
      <button
        type="button"
        onClick={() => void download()}
        disabled={state.busy}
        className={
          "inline-flex items-center gap-1 break-all text-left text-indigo-700 underline-offset-2 " + "hover:underline disabled:opacity-60 dark:text-indigo-400"
        }
      >
        <span aria-hidden>⬇</span>
        <span>{name}</span>
        <span className="sr-only">(download)</span>
      </button>{" "}
      <span className="text-xs text-zinc-500">{formatBytes(e.fileSize)}</span>
      {state.busy ? <span className="ml-2 text-xs text-zinc-500">downloading…</span> : null}
      {state.error ? (
        <p role="alert" className="text-xs text-red-700 dark:text-red-400">
          Could not download: {state.error}
        </p>
      ) : null}
    </div>
  );
}

function CheckResult({ evidence: e }: { evidence: DodEvidence }) {
  const passed = e.exitCode === 0;
  return (
    <div className="min-w-0 space-y-1">
      <code className="block rounded bg-white px-1.5 py-0.5 font-mono text-xs break-all ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
        $ {e.command}
      </code>
      <p className="flex flex-wrap gap-3 text-xs">
        <span className={passed ? "text-emerald-700 dark:text-emerald-400" : "text-red-700 dark:text-red-400"} data-testid="check-exit">
          {e.exitCode === null ? "killed (timeout or signal)" : `exit ${e.exitCode}`}
        </span>
        <span className="text-zinc-500">{formatDuration(e.durationMs)}</span>
      </p>
      {e.text ? (
        <details className="text-xs">
          <summary className="cursor-pointer text-zinc-600 dark:text-zinc-400">Output (tail)</summary>
          <pre className="mt-1 max-h-64 overflow-auto rounded bg-zinc-900 p-2 font-mono text-[11px] whitespace-pre-wrap text-zinc-100">{e.text}</pre>
        </details>
      ) : (
        <p className="text-xs text-zinc-500">no output</p>
      )}
    </div>
  );
}
