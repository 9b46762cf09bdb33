"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { RunDetail } from "@/trpc/types";
import { useSession } from "@/components/session/use-session";
import { can } from "@/lib/roles";
import { CANCELLABLE } from "@/lib/run-status";
import { toastError } from "@/lib/errors";
import { Button } from "@/components/ui/button";

/** The run's actions. Merge and abort (issue 5) go beside Cancel, gated the same way. */
export function RunActions({ run }: { run: RunDetail }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { session } = useSession();
  const cancel = useMutation(
    trpc.run.cancel.mutationOptions({
      onSuccess: (r) => {
        toast.success(r.status === "cancelled" ? "Run cancelled" : "Cancel requested: the runner is stopping the agent");
        void qc.invalidateQueries({ queryKey: trpc.run.byId.queryKey({ runId: run.id }) });
      },
      onError: toastError("Could not cancel the run"),
    }),
  );
  if (!can(session, "member")) return null;
  const cancellable = CANCELLABLE.includes(run.status) && !run.cancelRequestedAt;
  return (
    <div className="flex items-center gap-2" data-slot="run-actions">
      {run.cancelRequestedAt && CANCELLABLE.includes(run.status) ? <span className="text-xs text-amber-600">cancel requested…</span> : null}
      {cancellable ? (
        <Button
          variant="danger"
          size="sm"
          disabled={cancel.isPending}
          onClick={() => {
            if (window.confirm("Cancel this run? The agent is stopped and its work is not kept.")) cancel.mutate({ runId: run.id });
          }}
        >
          {cancel.isPending ? "Cancelling…" : "Cancel run"}
        </Button>
      ) : null}
    </div>
  );
}
