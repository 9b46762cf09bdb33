"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import { Button } from "@/components/ui/button";
import { Field, Input, Select, Textarea } from "@/components/ui/field";
import { errorMessage } from "@/lib/errors";

interface DodRow {
  key: string;
  title: string;
  required: boolean;
  check: string;
  autoValidate: boolean;
}

const blank = (): DodRow => ({ key: "", title: "", required: true, check: "", autoValidate: false });

/** A workspace's workflows: prompt template, engine, the Definition of Done with its automatic checks, four eyes. */
export function WorkflowSettings({ workspaceId }: { workspaceId: string }) {
  const trpc = useTRPC();
  const list = useQuery(trpc.workflow.list.queryOptions({ workspaceId }));
  const [editing, setEditing] = useState<string | "new" | null>(null);
  const current = list.data?.find((w) => w.id === editing);
  return (
    <section className="space-y-3">
      <div className="flex items-center justify-between">
        <h2 className="text-lg font-semibold">Workflows</h2>
        <Button size="sm" onClick={() => setEditing("new")}>
          New workflow
        </Button>
      </div>
      <ul className="divide-y divide-zinc-100 rounded-xl bg-white text-sm ring-1 ring-zinc-200 dark:divide-zinc-800 dark:bg-zinc-900 dark:ring-zinc-800">
        {(list.data ?? []).map((w) => (
          <li key={w.id} className="flex items-center justify-between px-4 py-2">
            <span>
              {w.name} <span className="text-xs text-zinc-500">· {w.engine}{w.isDefault ? " · default" : ""}{w.requireIndependentReview ? " · four eyes" : ""}</span>
            </span>
            <Button size="sm" variant="ghost" onClick={() => setEditing(w.id)}>
              Edit
            </Button>
          </li>
        ))}
      </ul>
      {editing ? <WorkflowForm key={editing} workspaceId={workspaceId} workflow={current} onDone={() => setEditing(null)} /> : null}
    </section>
  );
}

interface WorkflowView {
  id: string;
  name: string;
  promptTemplate: string;
  engine: string;
  command: string | null;
  isDefault: boolean;
  requireIndependentReview: boolean;
  dod: { key: string; title: string; required: boolean; check?: string | null; autoValidate?: boolean }[];
}

function WorkflowForm({ workspaceId, workflow, onDone }: { workspaceId: string; workflow: WorkflowView | undefined; onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [dod, setDod] = useState<DodRow[]>(workflow ? workflow.dod.map((d) => ({ ...d, check: d.check ?? "", autoValidate: d.autoValidate ?? false })) : [blank()]);
  const done = () => {
    toast.success("Workflow saved");
    void qc.invalidateQueries({ queryKey: trpc.workflow.list.queryKey() });
    onDone();
  };
  const create = useMutation(trpc.workflow.create.mutationOptions({ onSuccess: done }));
  const update = useMutation(trpc.workflow.update.mutationOptions({ onSuccess: done }));
  const error = create.error ?? update.error;

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const engine = String(f.get("engine")) as "anthropic" | "claude_code" | "command";
    const command = String(f.get("command") ?? "").trim() || null;
    const items = dod
      .filter((d) => d.key.trim() !== "")
      .map((d) => ({ key: d.key.trim(), title: d.title.trim() || d.key.trim(), required: d.required, check: d.check.trim() || null, autoValidate: d.autoValidate && d.check.trim() !== "" }));
    const common = {
      name: String(f.get("name") ?? "").trim(),
      promptTemplate: String(f.get("promptTemplate") ?? ""),
      engine,
      command,
      dod: items,
      requireIndependentReview: f.get("requireIndependentReview") === "on",
      isDefault: f.get("isDefault") === "on" ? true : undefined,
    };
    if (workflow) update.mutate({ workflowId: workflow.id, ...common });
    else create.mutate({ workspaceId, ...common });
  }

  const setRow = (i: number, patch: Partial<DodRow>) => setDod((rows) => rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <form onSubmit={submit} aria-label={workflow ? `Edit workflow ${workflow.name}` : "New workflow"} className="space-y-3 rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Workflow name">
          <Input name="name" defaultValue={workflow?.name} required />
        </Field>
        <Field label="Engine">
          <Select name="engine" defaultValue={workflow?.engine ?? "anthropic"}>
            <option value="anthropic">anthropic</option>
            <option value="claude_code">claude_code</option>
            <option value="command">command</option>
          </Select>
        </Field>
        <Field label="Command (command engine)">
          <Input name="command" defaultValue={workflow?.command ?? ""} />
        </Field>
      </div>
      <Field label="Prompt template" hint="{{card.title}}, {{card.description}}, {{project.name}}, {{project.testCommand}}">
        <Textarea name="promptTemplate" rows={4} defaultValue={workflow?.promptTemplate ?? "{{card.title}}\n\n{{card.description}}"} required />
      </Field>
      <fieldset className="space-y-2">
        <legend className="text-xs font-medium text-zinc-600 dark:text-zinc-400">Definition of Done</legend>
        {dod.map((d, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows have no id until saved and every input is controlled, so an index key loses no state.
          <div key={i} className="flex flex-wrap items-end gap-2" data-testid="dod-row">
            <Field label="Key">
              <Input value={d.key} onChange={(e) => setRow(i, { key: e.target.value })} />
            </Field>
            <Field label="Title">
              <Input value={d.title} onChange={(e) => setRow(i, { title: e.target.value })} />
            </Field>
            <Field label="Check command">
              <Input value={d.check} onChange={(e) => setRow(i, { check: e.target.value })} />
            </Field>
            <label className="flex items-center gap-1 text-xs">
              <input type="checkbox" checked={d.autoValidate} onChange={(e) => setRow(i, { autoValidate: e.target.checked })} /> validates itself
            </label>
            <label className="flex items-center gap-1 text-xs">
              <input type="checkbox" checked={d.required} onChange={(e) => setRow(i, { required: e.target.checked })} /> required
            </label>
            <Button size="sm" variant="ghost" onClick={() => setDod((rows) => rows.filter((_, j) => j !== i))}>
              Remove item
            </Button>
          </div>
        ))}
        <Button size="sm" onClick={() => setDod((rows) => [...rows, blank()])}>
          Add item
        </Button>
      </fieldset>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" name="requireIndependentReview" defaultChecked={workflow?.requireIndependentReview ?? false} /> Four eyes: who asks for a run does not validate it, and its only reviewer does not merge it
      </label>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" name="isDefault" defaultChecked={workflow?.isDefault ?? false} /> Default workflow of the workspace
      </label>
      {error ? (
        <p role="alert" className="text-sm text-red-600">
          {errorMessage(error)}
        </p>
      ) : null}
      <div className="flex gap-2">
        <Button type="submit" variant="primary">
          Save workflow
        </Button>
        <Button onClick={onDone}>Cancel</Button>
      </div>
    </form>
  );
}
