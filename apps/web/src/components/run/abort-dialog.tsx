"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { RunDetail } from "@/trpc/types";
import { errorMessage } from "@/lib/errors";
import { ACTIVE } from "@/lib/run-status";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Textarea } from "@/components/ui/field";
import { describeCleanup } from "./cleanup-summary";
import { useRefreshRun } from "./use-refresh-run";

/** Abort cannot be undone (the branch is deleted), so it asks first; the reason is optional. */
export function AbortDialog({ run, open, onClose }: { run: RunDetail; open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const refresh = useRefreshRun(run.id);
  const [reason, setReason] = useState("");
  const abort = useMutation(
    trpc.run.abort.mutationOptions({
      onSuccess: (r) => {
        toast.success("Run aborted", { description: describeCleanup(r.cleanup) });
        refresh();
        void qc.invalidateQueries({ queryKey: trpc.card.list.queryKey({ boardId: run.boardId }) });
        void qc.invalidateQueries({ queryKey: trpc.worktree.list.queryKey() });
        setReason("");
        onClose();
      },
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    abort.mutate({ runId: run.id, reason: reason.trim() || undefined });
  };
  const live = ACTIVE.includes(run.status) || run.status === "queued";
  return (
    <Dialog
      open={open}
      onClose={() => {
        abort.reset();
        onClose();
      }}
      title="Abort this run?"
    >
      <form onSubmit={submit} className="space-y-3">
        <p className="text-sm">
          {live ? "The agent is stopped, " : ""}
          {live ? "its" : "The run's"} worktree is removed and its branch <code>{run.branch}</code> deleted. Nothing is merged, and this cannot be undone.
        </p>
        <Field label="Reason (optional)" hint="Kept in the run's provenance.">
          <Textarea rows={3} maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
        </Field>
        {abort.error ? (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            {errorMessage(abort.error)}
          </p>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Keep the run</Button>
          <Button type="submit" variant="danger" disabled={abort.isPending}>
            {abort.isPending ? "Aborting…" : "Abort run"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
