"use client";

import type { FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import { Button } from "@/components/ui/button";
import { Field, Input, Textarea } from "@/components/ui/field";
import { errorMessage, toastError } from "@/lib/errors";

interface ProjectRow {
  id: string;
  name: string;
  repoPath: string;
  baseBranch: string;
  remoteUrl: string | null;
  setupScript: string | null;
  testCommand: string | null;
  hooks: unknown;
  archivedAt: Date | null;
}

const HOOK_KINDS = ["pre", "post", "error"] as const;
type HookKind = (typeof HOOK_KINDS)[number];
const HOOK_LABELS: Record<HookKind, string> = {
  pre: "Pre hooks (before the agent; a failing one vetoes the run)",
  post: "Post hooks (after a successful run)",
  error: "Error hooks (after a failed run)",
};

/** The hooks column as stored ({ pre?, post?, error? } of commands) → one command per line. */
function hookLines(hooks: unknown, kind: HookKind): string {
  if (!hooks || typeof hooks !== "object") return "";
  const list: unknown = (hooks as Record<string, unknown>)[kind];
  return Array.isArray(list) ? list.filter((c): c is string => typeof c === "string").join("\n") : "";
}

const commandsOf = (v: FormDataEntryValue | null) =>
  String(v ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

const orNull = (v: FormDataEntryValue | null) => {
  const s = String(v ?? "").trim();
  return s === "" ? null : s;
};

/**
 * Fix a project's name, path, branch, remote, setup script, test command or hooks (the
 * server checks them at once); archive it (its runs stay readable) or restore it.
 */
export function ProjectSettings({ project }: { project: ProjectRow }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const refresh = () => void qc.invalidateQueries({ queryKey: trpc.project.list.queryKey() });
  const save = useMutation(
    trpc.project.update.mutationOptions({
      onSuccess: () => {
        toast.success(`Saved ${project.name}`);
        refresh();
      },
    }),
  );
  const archive = useMutation(
    trpc.project.archive.mutationOptions({
      onSuccess: (r) => {
        toast.success(r.cancelledRuns > 0 ? `Project archived; ${r.cancelledRuns} active run(s) cancelled` : `Project ${project.name} archived`);
        refresh();
      },
      onError: toastError("Could not archive the project"),
    }),
  );
  const restore = useMutation(
    trpc.project.restore.mutationOptions({
      onSuccess: () => {
        toast.success(`Project ${project.name} restored`);
        refresh();
      },
      onError: toastError("Could not restore the project"),
    }),
  );
  if (project.archivedAt) {
    return (
      <li className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm" aria-label={`Archived project ${project.name}`}>
        <span>
          <span className="font-medium">{project.name}</span> <code className="text-xs text-zinc-500">{project.repoPath}</code>{" "}
          <span className="text-xs text-zinc-500">archived {new Date(project.archivedAt).toLocaleDateString()}</span>
        </span>
        <Button size="sm" disabled={restore.isPending} onClick={() => restore.mutate({ projectId: project.id })}>
          Restore
        </Button>
      </li>
    );
  }
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
      hooks: { pre: commandsOf(f.get("hooks.pre")), post: commandsOf(f.get("hooks.post")), error: commandsOf(f.get("hooks.error")) },
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
        {HOOK_KINDS.map((kind) => (
          <div key={kind} className={kind === "pre" ? "sm:col-span-2" : undefined}>
            <Field label={HOOK_LABELS[kind]} hint="One shell command per line, run in the run's worktree.">
              <Textarea name={`hooks.${kind}`} rows={2} defaultValue={hookLines(project.hooks, kind)} className="font-mono text-xs" />
            </Field>
          </div>
        ))}
        <div className="flex flex-wrap items-start justify-between gap-2 sm:col-span-2">
          <div>
            {save.error ? (
              <p role="alert" className="mb-2 text-sm text-red-600">
                {errorMessage(save.error)}
              </p>
            ) : null}
            <Button type="submit" variant="primary" disabled={save.isPending}>
              Save project
            </Button>
          </div>
          <Button
            variant="ghost"
            disabled={archive.isPending}
            onClick={() => {
              if (
                window.confirm(
                  `Archive the project “${project.name}”? Its active runs are cancelled; it takes no new cards or runs; its history stays readable.`,
                )
              )
                archive.mutate({ projectId: project.id });
            }}
          >
            Archive project
          </Button>
        </div>
      </form>
    </section>
  );
}
