"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import { toastError } from "@/lib/errors";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";

export function CreateProjectForm({ workspaceId }: { workspaceId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const create = useMutation(
    trpc.project.create.mutationOptions({
      onSuccess: (p) => {
        toast.success(`Project “${p.name}” added`);
        setOpen(false);
        void qc.invalidateQueries({ queryKey: trpc.project.list.queryKey({ workspaceId }) });
      },
      onError: toastError("Could not add the project"),
    }),
  );
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const text = (k: string) => String(f.get(k) ?? "").trim();
    create.mutate({
      workspaceId,
      name: text("name"),
      repoPath: text("repoPath"),
      baseBranch: text("baseBranch") || "main",
      testCommand: text("testCommand") || null,
    });
  };
  return (
    <>
      <Button size="sm" onClick={() => setOpen(true)}>
        New project
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="New project">
        <form onSubmit={submit} className="space-y-4">
          <Field label="Name">
            <Input name="name" required autoFocus maxLength={200} />
          </Field>
          <Field label="Repository path" hint="Absolute path of the git repository on the runners' machine.">
            <Input name="repoPath" required placeholder="/srv/repos/app" pattern="/.*" />
          </Field>
          <Field label="Base branch">
            <Input name="baseBranch" placeholder="main" />
          </Field>
          <Field label="Test command" hint="Optional; runs in the worktree after the agent.">
            <Input name="testCommand" placeholder="npm test" />
          </Field>
          <div className="flex justify-end gap-2">
            <Button onClick={() => setOpen(false)}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={create.isPending}>
              {create.isPending ? "Adding…" : "Add project"}
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
