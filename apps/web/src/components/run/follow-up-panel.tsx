"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { useMutation } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { RunDetail } from "@/trpc/types";
import { errorDetails, toastError } from "@/lib/errors";
import { Button } from "@/components/ui/button";
import { Field, Input, Textarea } from "@/components/ui/field";
import type { ReviewComment } from "./review-comments";
import { useRefreshRun } from "./use-refresh-run";

const CONTINUABLE = new Set(["succeeded", "failed", "cancelled"]);

/**
 * Sending the agent back to work (docs/review-loop.md). A finished run: a follow-up on the
 * same branch with the conversation kept, carrying the open review comments made on this
 * run and an optional note. A running one: a message the agent gets at its next turn.
 */
export function FollowUpPanel({ run, comments, isHead }: { run: RunDetail; comments: ReviewComment[]; isHead: boolean }) {
  if (run.status === "running" || run.status === "claimed") return <MessageBox runId={run.id} />;
  if (!CONTINUABLE.has(run.status) || !isHead) return null;
  return (
    <>
      <FollowUpBox run={run} comments={comments} />
      <BranchActions run={run} />
    </>
  );
}

/** Re-run with the same settings, and bring the base branch in (by the server, or by the agent when it conflicts). */
function BranchActions({ run }: { run: RunDetail }) {
  const trpc = useTRPC();
  const router = useRouter();
  const refresh = useRefreshRun(run.id);
  const [conflicts, setConflicts] = useState<string[] | null>(null);
  const goTo = (what: string) => (next: { id: string }) => {
    toast.success(what);
    router.push(`/runs/${next.id}`);
  };
  const retry = useMutation(
    trpc.run.retry.mutationOptions({ onSuccess: goTo("Queued again with the same settings"), onError: toastError("Could not re-run") }),
  );
  const resolve = useMutation(
    trpc.run.resolveConflicts.mutationOptions({
      onSuccess: goTo("The agent is resolving the conflicts"),
      onError: toastError("Could not hand the conflicts to the agent"),
    }),
  );
  const update = useMutation(
    trpc.run.updateFromBase.mutationOptions({
      onSuccess: (r) => {
        setConflicts(null);
        toast.success(
          r.status === "updated"
            ? `${run.baseBranch} merged into the branch: validate again on the new head`
            : `The branch already has everything of ${run.baseBranch}`,
        );
        refresh();
      },
      onError: (err) => {
        const files = (errorDetails(err) as { files?: unknown } | undefined)?.files;
        if (Array.isArray(files)) setConflicts(files.filter((f): f is string => typeof f === "string"));
        else toastError("Could not update from the base")(err);
      },
    }),
  );
  return (
    <section aria-label="Branch" className="flex flex-wrap items-center gap-2 text-sm" data-testid="branch-actions">
      <Button size="sm" onClick={() => retry.mutate({ runId: run.id })} disabled={retry.isPending}>
        Re-run
      </Button>
      <Button size="sm" onClick={() => update.mutate({ runId: run.id })} disabled={update.isPending}>
        Update from {run.baseBranch}
      </Button>
      {conflicts ? (
        <span className="flex flex-wrap items-center gap-2" role="alert" data-testid="update-conflicts">
          <span className="text-red-700 dark:text-red-300">Conflicts in {conflicts.join(", ")}; nothing was changed.</span>
          <Button size="sm" variant="primary" onClick={() => resolve.mutate({ runId: run.id })} disabled={resolve.isPending}>
            Ask the agent to resolve
          </Button>
        </span>
      ) : null}
    </section>
  );
}

function FollowUpBox({ run, comments }: { run: RunDetail; comments: ReviewComment[] }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [message, setMessage] = useState("");
  const open = comments.filter((c) => c.resolvedAt === null && !c.outdated && c.sentInRunId === null);
  const followUp = useMutation(
    trpc.run.followUp.mutationOptions({
      onSuccess: (next) => {
        toast.success("The agent is back at work on the branch");
        router.push(`/runs/${next.id}`);
      },
      onError: toastError("Could not send the follow-up"),
    }),
  );
  const n = open.length;
  const label = n > 0 ? `Send ${n} comment${n === 1 ? "" : "s"} to the agent` : "Send follow-up";
  return (
    <section aria-labelledby="follow-up" className="rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800" data-testid="follow-up">
      <h2 id="follow-up" className="mb-2 text-sm font-semibold">
        Send the agent back to work
      </h2>
      <p className="mb-2 text-xs text-zinc-500">
        A follow-up continues this conversation on <code>{run.branch}</code>
        {n > 0 ? `, with the ${n === 1 ? "open comment" : `${n} open comments`} on this diff (file, line and code)` : ""}.
      </p>
      <form
        className="space-y-2"
        onSubmit={(e) => {
          e.preventDefault();
          followUp.mutate({ runId: run.id, message, commentIds: open.map((c) => c.id) });
        }}
      >
        <Field label={n > 0 ? "Note (optional)" : "Follow-up message"}>
          <Textarea value={message} onChange={(e) => setMessage(e.target.value)} rows={3} placeholder="What should the agent do next?" />
        </Field>
        <Button type="submit" variant="primary" disabled={followUp.isPending || (n === 0 && !message.trim())} data-testid="send-follow-up">
          {label}
        </Button>
      </form>
    </section>
  );
}

function MessageBox({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const [text, setText] = useState("");
  const send = useMutation(
    trpc.run.sendMessage.mutationOptions({
      onSuccess: () => {
        toast.success("Sent: the agent reads it at its next turn");
        setText("");
      },
      onError: toastError("Could not send the message"),
    }),
  );
  return (
    <section
      aria-labelledby="message-agent"
      className="rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800"
      data-testid="message-agent"
    >
      <h2 id="message-agent" className="mb-2 text-sm font-semibold">
        Message the agent
      </h2>
      <form
        className="flex gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim()) send.mutate({ runId, text });
        }}
      >
        <Input
          aria-label="Message to the agent"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="It hears it at its next turn"
          className="flex-1"
        />
        <Button type="submit" disabled={send.isPending || !text.trim()}>
          Send
        </Button>
      </form>
    </section>
  );
}
