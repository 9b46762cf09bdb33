"use client";

import { useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { RunDetail } from "@/trpc/types";
import { useSession } from "@/components/session/use-session";
import { can } from "@/lib/roles";
import { CANCELLABLE } from "@/lib/run-status";
import { toastError } from "@/lib/errors";
import { Button } from "@/components/ui/button";
import { AbortDialog } from "./abort-dialog";
import { useRefreshRun } from "./use-refresh-run";

/**
 * The run's actions for members and admins: Cancel (stop the agent, keep what it did) while
 * the run is live, and Abort (throw the work away: worktree and branch removed) whenever the
 * server says the run is abortable. Merge sits with its gate in the merge panel.
 */
export function RunActions({ run }: { run: RunDetail }) {
  const trpc = useTRPC();
  const refresh = useRefreshRun(run.id);
  const { session } = useSession();
  const member = can(session, "member", run.workspaceId);
  const [aborting, setAborting] = useState(false);
  // Shared with the merge panel (same query key): `canAbort` is the server's rule.
  const gate = useQuery(trpc.run.mergeability.queryOptions({ runId: run.id }, { enabled: member }));
  const cancel = useMutation(
    trpc.run.cancel.mutationOptions({
      onSuccess: (r) => {
        toast.success(r.status === "cancelled" ? "Run cancelled" : "Cancel requested: the runner is stopping the agent");
        refresh();
      },
      onError: toastError("Could not cancel the run"),
    }),
  );
  if (!member) return null;
  const cancellable = CANCELLABLE.includes(run.status) && !run.cancelRequestedAt;
  const abortable = gate.data?.canAbort === true;
  return (
    <div className="flex items-center gap-2" data-slot="run-actions">
      {run.cancelRequestedAt && CANCELLABLE.includes(run.status) ? <span className="text-xs text-amber-600">cancel requested…</span> : null}
      {cancellable ? (
        <Button
          size="sm"
          disabled={cancel.isPending}
          onClick={() => {
            if (window.confirm("Cancel this run? The agent is stopped; what it did so far stays on its branch.")) cancel.mutate({ runId: run.id });
          }}
        >
          {cancel.isPending ? "Cancelling…" : "Cancel run"}
        </Button>
      ) : null}
      {abortable ? (
        <Button variant="danger" size="sm" onClick={() => setAborting(true)}>
          Abort…
        </Button>
      ) : null}
      <AbortDialog run={run} open={aborting} onClose={() => setAborting(false)} />
    </div>
  );
}
