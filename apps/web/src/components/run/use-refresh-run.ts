"use client";

import { useCallback } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";

/**
 * Re-reads everything the run page derives from the run's row: the detail (DoD items and
 * evidence), the merge gate, the provenance and the approval requests. A decision changes all three, so they are
 * refreshed together — from a mutation's success and from the run's live events alike.
 */
export function useRefreshRun(runId: string): () => void {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useCallback(() => {
    void qc.invalidateQueries({ queryKey: trpc.run.byId.queryKey({ runId }) });
    void qc.invalidateQueries({ queryKey: trpc.run.mergeability.queryKey({ runId }) });
    void qc.invalidateQueries({ queryKey: trpc.run.provenance.queryKey({ runId }) });
    void qc.invalidateQueries({ queryKey: trpc.run.approvals.queryKey({ runId }) });
  }, [qc, trpc, runId]);
}

/** Event types after which the run's row, gate, provenance or approvals may have changed. */
export function changesRun(type: string): boolean {
  return type.startsWith("run.") || type.startsWith("dod.") || type.startsWith("approval.") || type === "worktree.removed";
}
