"use client";

import type { FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";
import { errorMessage } from "@/lib/errors";

interface ProjectRow {
  id: string;
  name: string;
  repoPath: string;
  baseBranch: string;
  remoteUrl: string | null;
  setupScript: string | null;
  testCommand: string | null;
}

const orNull = (v: FormDataEntryValue | null) => {
  const s = String(v ?? "").trim();
  return s === "" ? null : s;
};

/** Fix a project's path, branch, remote, setup script or test command; the server checks them at once. */
export function ProjectSettings({ project }: { project: ProjectRow }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const save = useMutation(
    trpc.project.update.mutationOptions({
      onSuccess: () => {
        toast.success(`Saved ${project.name}`);
        void qc.invalidateQueries({ queryKey: trpc.project.list.queryKey() });
      },
    }),
  );
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    save.mutate({
      projectId: project.id,
      name: String(f.get("name") ?? "").trim(),
      repoPath: String(f.get("repoPath") ?? "").trim(),
      baseBranch: String(f.get("baseBranch") ?? "").trim(),
      remoteUrl: orNull(f.get("remoteUrl")),
      setupScript: orNull(f.get("setupScript")),
      testCommand: orNull(f.get("testCommand")),
    });
  }
  return (
    <section className="space-y-3 rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800" aria-label={`Project ${project.name}`}>
      <h2 className="text-lg font-semibold">Project {project.name}</h2>
      <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2">
        <Field label="Name">
          <Input name="name" defaultValue={project.name} required />
        </Field>
        <Field label="Repository path (on the server)">
          <Input name="repoPath" defaultValue={project.repoPath} required />
        </Field>
        <Field label="Base branch">
          <Input name="baseBranch" defaultValue={project.baseBranch} required />
        </Field>
        <Field label="Remote URL">
          <Input name="remoteUrl" defaultValue={project.remoteUrl ?? ""} />
        </Field>
        <Field label="Setup script">
          <Input name="setupScript" defaultValue={project.setupScript ?? ""} />
        </Field>
        <Field label="Test command">
          <Input name="testCommand" defaultValue={project.testCommand ?? ""} />
        </Field>
        <div className="sm:col-span-2">
          {save.error ? (
            <p role="alert" className="mb-2 text-sm text-red-600">
              {errorMessage(save.error)}
            </p>
          ) : null}
          <Button type="submit" variant="primary" disabled={save.isPending}>
            Save project
          </Button>
        </div>
      </form>
    </section>
  );
}
