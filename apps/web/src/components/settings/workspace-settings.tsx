"use client";

import type { FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { Workspace } from "@/trpc/types";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";
import { errorMessage } from "@/lib/errors";
import { formatCost } from "@/lib/format";

/** A workspace's name and budget (the runs of the workspace together; empty: no cap). */
export function WorkspaceSettings({ workspace }: { workspace: Workspace }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const save = useMutation(
    trpc.workspace.update.mutationOptions({
      onSuccess: (w) => {
        toast.success(`Saved workspace ${w.name}`);
        void qc.invalidateQueries({ queryKey: trpc.workspace.pathKey() });
      },
    }),
  );
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const budget = String(f.get("budgetUsd") ?? "").trim();
    save.mutate({ workspaceId: workspace.id, name: String(f.get("name") ?? "").trim(), budgetUsd: budget === "" ? null : Number(budget) });
  }
  return (
    <section aria-labelledby="workspace-settings" className="space-y-3 rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
      <h2 id="workspace-settings" className="text-lg font-semibold">
        Workspace
      </h2>
      <form key={`${workspace.id}:${workspace.name}:${workspace.budgetUsd ?? ""}`} onSubmit={submit} className="grid gap-3 sm:grid-cols-2">
        <Field label="Workspace name">
          <Input name="name" defaultValue={workspace.name} required maxLength={200} />
        </Field>
        <Field label="Budget (USD)" hint={`Spent so far: ${formatCost(workspace.spentUsd)}. Empty: no budget. Once it is used up, queued runs wait unclaimed.`}>
          <Input name="budgetUsd" type="number" min={0} step="any" defaultValue={workspace.budgetUsd ?? ""} />
        </Field>
        <div className="sm:col-span-2">
          {save.error ? (
            <p role="alert" className="mb-2 text-sm text-red-600">
              {errorMessage(save.error)}
            </p>
          ) : null}
          <Button type="submit" variant="primary" disabled={save.isPending}>
            Save workspace
          </Button>
        </div>
      </form>
    </section>
  );
}
