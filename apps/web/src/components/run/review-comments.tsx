"use client";

import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { RouterOutputs } from "@/trpc/types";
import { toastError } from "@/lib/errors";
import { timeAgo } from "@/lib/format";
import { Button } from "@/components/ui/button";
import { Textarea } from "@/components/ui/field";
import { cn } from "@/components/ui/cn";

export type ReviewComment = RouterOutputs["review"]["list"][number];

/** A line of the diff, or a range of lines on one side (`line`..`endLine`), as review comments name it. */
export interface LineRef {
  path: string;
  line: number;
  endLine?: number;
  side: "old" | "new";
}

/** "line 3", or "lines 3–5" for a range. */
export function linesLabel(r: { line: number; endLine?: number | null }): string {
  return r.endLine != null && r.endLine > r.line ? `lines ${r.line}–${r.endLine}` : `line ${r.line}`;
}

/** What the diff viewer needs to show and take comments. */
export interface DiffReview {
  comments: ReviewComment[];
  canComment: boolean;
  add(at: LineRef, body: string): Promise<unknown>;
  resolve(commentId: string, resolved: boolean): void;
}

/** The thread's comments placed on this run's diff, and the calls that change them. */
export function useDiffReview(runId: string, canComment: boolean): DiffReview & { loading: boolean } {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const key = trpc.review.list.queryKey({ runId });
  const list = useQuery(trpc.review.list.queryOptions({ runId }, { refetchInterval: 5_000 }));
  const refresh = () => void qc.invalidateQueries({ queryKey: key });
  const add = useMutation(trpc.review.comment.mutationOptions({ onSuccess: refresh, onError: toastError("Could not add the comment") }));
  const resolve = useMutation(
    trpc.review.resolve.mutationOptions({
      onSuccess: (c) => {
        toast.success(c.resolvedAt ? "Comment resolved" : "Comment reopened");
        refresh();
      },
      onError: toastError("Could not change the comment"),
    }),
  );
  return {
    loading: list.isLoading,
    comments: list.data ?? [],
    canComment,
    add: (at, body) => add.mutateAsync({ runId, ...at, body }),
    resolve: (commentId, resolved) => resolve.mutate({ commentId, resolved }),
  };
}

/**
 * The comments that end on one line (a range comment shows under its last line), and the box
 * for a new one on `composing` (the line, or the range that ends here).
 */
export function LineComments({
  at,
  comments,
  review,
  composing,
  onClose,
}: {
  at: LineRef;
  comments: ReviewComment[];
  review: DiffReview;
  composing: LineRef | null;
  onClose: () => void;
}) {
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <div
      className="space-y-2 border-y border-zinc-200 bg-zinc-50 px-3 py-2 font-sans text-xs dark:border-zinc-800 dark:bg-zinc-900"
      data-testid="line-comments"
      data-path={at.path}
      data-line={at.line}
    >
      {comments.map((c) => (
        <CommentView key={c.id} comment={c} review={review} />
      ))}
      {composing ? (
        <form
          className="space-y-2"
          onSubmit={(e) => {
            e.preventDefault();
            if (!body.trim()) return;
            setBusy(true);
            review
              .add(composing, body.trim())
              .then(() => {
                setBody("");
                onClose();
              })
              .catch(() => undefined)
              .finally(() => setBusy(false));
          }}
        >
          {composing.endLine !== undefined ? (
            <p className="text-zinc-500" data-testid="comment-range">
              Commenting on {linesLabel(composing)}
            </p>
          ) : null}
          <Textarea
            aria-label={`Your comment on ${composing.path} ${linesLabel(composing)}`}
            value={body}
            onChange={(e) => setBody(e.target.value)}
            rows={3}
            autoFocus
            placeholder="What should change here?"
          />
          <div className="flex gap-2">
            <Button type="submit" variant="primary" size="sm" disabled={busy || !body.trim()}>
              Comment
            </Button>
            <Button size="sm" variant="ghost" onClick={onClose}>
              Cancel
            </Button>
          </div>
        </form>
      ) : null}
    </div>
  );
}

export function CommentView({ comment: c, review }: { comment: ReviewComment; review: DiffReview }) {
  const resolved = c.resolvedAt !== null;
  const ranged = c.endLine !== null && c.endLine > c.line;
  return (
    <article
      className={cn("rounded-md bg-white p-2 ring-1 ring-zinc-200 dark:bg-zinc-950 dark:ring-zinc-800", resolved && "opacity-60")}
      data-testid="review-comment"
      data-comment-id={c.id}
      data-outdated={c.outdated}
      data-resolved={resolved}
      data-line={c.placedLine ?? undefined}
      data-end-line={c.placedEndLine ?? undefined}
    >
      <header className="mb-1 flex flex-wrap items-center gap-2 text-zinc-500">
        <span className="font-medium text-zinc-700 dark:text-zinc-200">{c.author}</span>
        <span>{timeAgo(c.createdAt)}</span>
        {ranged && !c.outdated ? (
          <span className="font-mono" data-testid="comment-lines">
            {linesLabel({ line: c.placedLine ?? c.line, endLine: c.placedEndLine ?? c.endLine })}
          </span>
        ) : null}
        {c.outdated ? <span className="rounded bg-amber-100 px-1.5 text-amber-800 dark:bg-amber-950 dark:text-amber-200">outdated</span> : null}
        {c.sentInRunId ? <span className="rounded bg-sky-100 px-1.5 text-sky-800 dark:bg-sky-950 dark:text-sky-200">sent to the agent</span> : null}
        {resolved ? <span>resolved by {c.resolvedBy}</span> : null}
        {review.canComment ? (
          <button type="button" className="ml-auto text-xs underline" onClick={() => review.resolve(c.id, !resolved)}>
            {resolved ? "Reopen" : "Resolve"}
          </button>
        ) : null}
      </header>
      <p className="whitespace-pre-wrap text-zinc-800 dark:text-zinc-100">{c.body}</p>
    </article>
  );
}

/** Comments whose line is gone from this diff: listed apart, with where they were. */
export function OutdatedComments({ comments, review }: { comments: ReviewComment[]; review: DiffReview }) {
  const outdated = comments.filter((c) => c.outdated);
  if (outdated.length === 0) return null;
  return (
    <section aria-label="Outdated comments" className="mb-3 space-y-2 text-xs" data-testid="outdated-comments">
      <p className="font-medium text-zinc-600 dark:text-zinc-300">Outdated comments (their lines changed since)</p>
      {outdated.map((c) => (
        <div key={c.id}>
          <p className="mb-1 whitespace-pre-wrap font-mono text-zinc-500">
            {c.path}:{c.endLine !== null && c.endLine > c.line ? `${c.line}-${c.endLine}` : c.line} was <code>{c.lineText.trim() || "(empty line)"}</code>
          </p>
          <CommentView comment={c} review={review} />
        </div>
      ))}
    </section>
  );
}
