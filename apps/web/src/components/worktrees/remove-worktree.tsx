"use client";

import { useState } from "react";
import Link from "next/link";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { WorktreeRow } from "@/trpc/types";
import { errorMessage, errorReason } from "@/lib/errors";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";

/** What each refusal of `worktree.remove` means for the person who clicked, and what to do. */
const REFUSAL: Record<string, string> = {
  RUN_ACTIVE: "Its run is claimed or running: the agent is working in this directory. Abort or cancel the run first.",
  REPOSITORY_UNAVAILABLE: "The project's repository is not on this server (a remote runner's machine): that runner's sweep removes it.",
  WORKTREE_NOT_OURS: "git does not list this path as a worktree of the project's repository, so it is left alone.",
  FORBIDDEN: "Only an admin can remove worktrees.",
};

/**
 * Remove one worktree (admin). The branch stays, so a succeeded run can still be merged from
 * it; abort is what deletes a branch. Refused while the run is active — shown before asking,
 * and again if the server says so (the run may have been claimed meanwhile).
 */
export function RemoveWorktreeAction({ worktree: w }: { worktree: WorktreeRow }) {
  const [open, setOpen] = useState(false);
  if (w.removedAt) return null;
  if (w.status === "active") {
    return (
      <span className="text-xs text-zinc-500" data-testid="worktree-active">
        run active —{" "}
        <Link href={`/runs/${w.run.id}`} className="underline">
          abort it first
        </Link>
      </span>
    );
  }
  return (
    <>
      <Button size="sm" variant="ghost" className="text-red-700 dark:text-red-400" onClick={() => setOpen(true)} aria-label={`Remove worktree ${w.path}`}>
        Remove
      </Button>
      <RemoveWorktreeDialog worktree={w} open={open} onClose={() => setOpen(false)} />
    </>
  );
}

function RemoveWorktreeDialog({ worktree: w, open, onClose }: { worktree: WorktreeRow; open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const remove = useMutation(
    trpc.worktree.remove.mutationOptions({
      onSuccess: () => {
        toast.success("Worktree removed", { description: `${w.path} · branch ${w.branch} kept` });
        void qc.invalidateQueries({ queryKey: trpc.worktree.list.queryKey() });
        onClose();
      },
    }),
  );
  const reason = remove.error ? errorReason(remove.error) : undefined;
  return (
    <Dialog
      open={open}
      onClose={() => {
        remove.reset();
        onClose();
      }}
      title="Remove this worktree?"
    >
      <div className="space-y-3 text-sm">
        <p>
          <code className="break-all">{w.path}</code> is deleted from disk (with anything not committed in it). The branch <code>{w.branch}</code> stays, so the
          run can still be merged.
        </p>
        {remove.error ? (
          <div
            role="alert"
            className="rounded-lg bg-red-50 p-3 text-red-900 ring-1 ring-red-200 dark:bg-red-950 dark:text-red-100 dark:ring-red-900"
            data-testid="worktree-remove-error"
            data-reason={reason}
          >
            <p className="font-medium">
              {reason ? <span className="font-mono">{reason}: </span> : null}
              {(reason && REFUSAL[reason]) ?? "The worktree could not be removed."}
            </p>
            <p className="mt-1 text-xs">{errorMessage(remove.error)}</p>
          </div>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Keep it</Button>
          <Button variant="danger" disabled={remove.isPending} onClick={() => remove.mutate({ worktreeId: w.id })}>
            {remove.isPending ? "Removing…" : "Remove worktree"}
          </Button>
        </div>
      </div>
    </Dialog>
  );
}
