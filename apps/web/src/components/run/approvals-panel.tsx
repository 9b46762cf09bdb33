"use client";

import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { z } from "zod";
import { useTRPC } from "@/trpc/react";
import type { RouterOutputs, RunDetail } from "@/trpc/types";
import { useSession } from "@/components/session/use-session";
import { can } from "@/lib/roles";
import { toastError } from "@/lib/errors";
import { formatTime } from "@/lib/format";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";

type Approval = RouterOutputs["run"]["approvals"][number];

/** The request's subject as the runner sent it (the server checked it); shown raw if it is not. */
export const zSubject = z.union([
  z.object({ command: z.string(), truncated: z.boolean().optional() }),
  z.object({ path: z.string(), action: z.enum(["create", "overwrite", "edit"]), preview: z.string(), truncated: z.boolean().optional() }),
]);

/**
 * The run's pending approval requests, at the top of the run page while the agent waits:
 * the exact command or file change, and Approve / Deny (with an optional note) for members.
 * Viewers see the request without the buttons. Answers stay in the event log.
 */
export function ApprovalsPanel({ run }: { run: RunDetail }) {
  const trpc = useTRPC();
  const approvals = useQuery(trpc.run.approvals.queryOptions({ runId: run.id }));
  const pending = (approvals.data ?? []).filter((a) => a.status === "pending");
  if (run.status !== "running" || pending.length === 0) return null;
  return (
    <section
      aria-labelledby="approvals"
      className="space-y-3 rounded-xl bg-amber-50 p-4 ring-2 ring-amber-400 dark:bg-amber-950/40 dark:ring-amber-700"
      data-testid="approvals"
    >
      <h2 id="approvals" className="text-sm font-semibold text-amber-900 dark:text-amber-200">
        Waiting for approval
      </h2>
      <ul className="space-y-3">
        {pending.map((a) => (
          <PendingRequest key={a.id} runId={run.id} workspaceId={run.workspaceId} approval={a} />
        ))}
      </ul>
    </section>
  );
}

function PendingRequest({ runId, workspaceId, approval }: { runId: string; workspaceId: string; approval: Approval }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { session } = useSession();
  const member = can(session, "member", workspaceId);
  const [note, setNote] = useState("");
  const answer = useMutation(
    trpc.run.approve.mutationOptions({
      onSuccess: (r) => {
        toast.success(r.status === "granted" ? "Approved: the agent goes on" : "Denied: the agent is told so");
        void qc.invalidateQueries({ queryKey: trpc.run.approvals.queryKey({ runId }) });
      },
      onError: toastError("Could not answer the request"),
    }),
  );
  const subject = zSubject.safeParse(approval.subject);
  const wants = approval.kind === "command" ? "wants to run a command" : "wants to change a file";
  const decide = (decision: "approve" | "deny") => answer.mutate({ runId, requestId: approval.id, decision, note: note.trim() || undefined });
  return (
    <li
      className="space-y-2 rounded-lg bg-white p-3 ring-1 ring-amber-200 dark:bg-zinc-900 dark:ring-amber-900"
      data-testid="approval-request"
      data-request-id={approval.id}
    >
      <p className="text-xs text-zinc-600 dark:text-zinc-400">
        <span className="font-mono font-semibold text-zinc-900 dark:text-zinc-100">{approval.tool}</span> {wants} · asked {formatTime(approval.createdAt)} ·
        denied if unanswered by {formatTime(approval.expiresAt)}
      </p>
      {subject.success ? <SubjectView subject={subject.data} /> : <pre className="overflow-x-auto text-xs">{JSON.stringify(approval.subject, null, 2)}</pre>}
      {member ? (
        <div className="flex flex-wrap items-end gap-2">
          <div className="min-w-48 flex-1">
            <Field label="Note (optional, the agent reads it)">
              <Input value={note} maxLength={2000} onChange={(e) => setNote(e.target.value)} />
            </Field>
          </div>
          <Button variant="primary" disabled={answer.isPending} onClick={() => decide("approve")}>
            Approve
          </Button>
          <Button variant="danger" disabled={answer.isPending} onClick={() => decide("deny")}>
            Deny
          </Button>
        </div>
      ) : (
        <p className="text-xs text-zinc-500">A member of the workspace can approve or deny this.</p>
      )}
    </li>
  );
}

function SubjectView({ subject }: { subject: z.infer<typeof zSubject> }) {
  if ("command" in subject) {
    return (
      <pre className="overflow-x-auto rounded-md bg-zinc-900 px-3 py-2 font-mono text-xs whitespace-pre-wrap text-zinc-100" data-testid="approval-command">
        {subject.command}
      </pre>
    );
  }
  return (
    <div className="space-y-1">
      <p className="text-xs">
        {subject.action}{" "}
        <code className="font-semibold" data-testid="approval-path">
          {subject.path}
        </code>
        {subject.truncated ? <span className="text-amber-700"> (preview cut)</span> : null}
      </p>
      <pre className="max-h-80 overflow-auto rounded-md bg-zinc-50 px-3 py-2 font-mono text-xs whitespace-pre dark:bg-zinc-950" data-testid="approval-preview">
        {subject.preview}
      </pre>
    </div>
  );
}
