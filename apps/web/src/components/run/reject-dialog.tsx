"use client";

import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import { errorMessage } from "@/lib/errors";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Textarea } from "@/components/ui/field";
import { useRefreshRun } from "./use-refresh-run";

/** A rejection needs a reason: it is what the agent's author and the next reviewer read. */
export function RejectDialog({
  evidenceId,
  runId,
  itemTitle,
  open,
  onClose,
}: {
  evidenceId: string;
  runId: string;
  itemTitle: string;
  open: boolean;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshRun(runId);
  const [reason, setReason] = useState("");
  const reject = useMutation(
    trpc.dod.reject.mutationOptions({
      onSuccess: () => {
        toast.success(`Rejected: ${itemTitle}`);
        refresh();
        setReason("");
        onClose();
      },
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!reason.trim()) return;
    reject.mutate({ evidenceId, reason: reason.trim() });
  };
  return (
    <Dialog
      open={open}
      onClose={() => {
        reject.reset();
        onClose();
      }}
      title={`Reject evidence for “${itemTitle}”`}
    >
      <form onSubmit={submit} className="space-y-3">
        <Field label="Reason" hint="Recorded with your name in the run's provenance.">
          <Textarea rows={3} required maxLength={2000} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
        </Field>
        {reject.error ? (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            {errorMessage(reject.error)}
          </p>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Keep it</Button>
          <Button type="submit" variant="danger" disabled={!reason.trim() || reject.isPending}>
            {reject.isPending ? "Rejecting…" : "Reject evidence"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
