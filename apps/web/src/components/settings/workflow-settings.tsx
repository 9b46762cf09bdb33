"use client";

import { useEffect, useState, type FormEvent } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { Engine, Workflow } from "@/trpc/types";
import { Button } from "@/components/ui/button";
import { Field, Input, Select, Textarea } from "@/components/ui/field";
import { errorMessage, toastError } from "@/lib/errors";
import { ENGINES, MODELS, isEngine, takesModel } from "@/lib/engines";

interface DodRow {
  key: string;
  title: string;
  required: boolean;
  check: string;
  autoValidate: boolean;
  carryOver: boolean;
}

const blank = (): DodRow => ({ key: "", title: "", required: true, check: "", autoValidate: false, carryOver: false });

/**
 * A workspace's workflows: prompt template (with a live preview against a card), engine and
 * model, limits, the Definition of Done with its automatic checks, four eyes, default;
 * archive and restore.
 */
export function WorkflowSettings({ workspaceId }: { workspaceId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.workflow.list.queryOptions({ workspaceId }));
  const archived = useQuery(trpc.workflow.list.queryOptions({ workspaceId, archived: true }));
  const [editing, setEditing] = useState<string | "new" | null>(null);
  const current = list.data?.find((w) => w.id === editing);
  const refresh = () => void qc.invalidateQueries({ queryKey: trpc.workflow.list.queryKey() });
  const archive = useMutation(
    trpc.workflow.archive.mutationOptions({
      onSuccess: (w) => {
        toast.success(`Workflow “${w.name}” archived: its runs keep their copy`);
        if (editing === w.id) setEditing(null);
        refresh();
      },
      onError: toastError("Could not archive the workflow"),
    }),
  );
  const restore = useMutation(
    trpc.workflow.restore.mutationOptions({
      onSuccess: (w) => {
        toast.success(`Workflow “${w.name}” restored`);
        refresh();
      },
      onError: toastError("Could not restore the workflow"),
    }),
  );
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
              {w.name}{" "}
              <span className="text-xs text-zinc-500">
                · {w.engine}
                {w.isDefault ? " · default" : ""}
                {w.requireIndependentReview ? " · four eyes" : ""}
              </span>
            </span>
            <span className="flex gap-1">
              <Button size="sm" variant="ghost" onClick={() => setEditing(w.id)} aria-label={`Edit ${w.name}`}>
                Edit
              </Button>
              {w.isDefault ? null : (
                <Button
                  size="sm"
                  variant="ghost"
                  aria-label={`Archive ${w.name}`}
                  disabled={archive.isPending}
                  onClick={() => {
                    if (window.confirm(`Archive the workflow “${w.name}”? New runs cannot use it; its runs keep their prompt and checklist.`))
                      archive.mutate({ workflowId: w.id });
                  }}
                >
                  Archive
                </Button>
              )}
            </span>
          </li>
        ))}
      </ul>
      {archived.data?.length ? (
        <div className="text-sm">
          <h3 className="text-xs font-medium text-zinc-600 dark:text-zinc-400">Archived workflows</h3>
          <ul aria-label="Archived workflows" className="divide-y divide-zinc-100 dark:divide-zinc-800">
            {archived.data.map((w) => (
              <li key={w.id} className="flex items-center justify-between py-1.5">
                <span>
                  {w.name} <span className="text-xs text-zinc-500">· {w.engine}</span>
                </span>
                <Button size="sm" aria-label={`Restore ${w.name}`} disabled={restore.isPending} onClick={() => restore.mutate({ workflowId: w.id })}>
                  Restore
                </Button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {editing ? <WorkflowForm key={editing} workspaceId={workspaceId} workflow={current} onDone={() => setEditing(null)} /> : null}
    </section>
  );
}

/** A number field's value, or null when left empty. */
const numberOrNull = (v: FormDataEntryValue | null) => {
  const s = String(v ?? "").trim();
  return s === "" ? null : Number(s);
};

function WorkflowForm({ workspaceId, workflow, onDone }: { workspaceId: string; workflow: Workflow | undefined; onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [engine, setEngine] = useState<Engine>(workflow?.engine ?? "anthropic");
  const [template, setTemplate] = useState(workflow?.promptTemplate ?? "{{card.title}}\n\n{{card.description}}");
  const [dod, setDod] = useState<DodRow[]>(
    workflow ? workflow.dod.map((d) => ({ ...d, check: d.check ?? "", autoValidate: d.autoValidate ?? false, carryOver: d.carryOver ?? false })) : [blank()],
  );
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
    const command = String(f.get("command") ?? "").trim() || null;
    const timeoutMin = numberOrNull(f.get("timeoutMin"));
    const items = dod
      .filter((d) => d.key.trim() !== "")
      .map((d) => ({
        key: d.key.trim(),
        title: d.title.trim() || d.key.trim(),
        required: d.required,
        check: d.check.trim() || null,
        autoValidate: d.autoValidate && d.check.trim() !== "",
        carryOver: d.carryOver,
      }));
    const common = {
      name: String(f.get("name") ?? "").trim(),
      promptTemplate: template,
      engine,
      command,
      model: takesModel(engine) ? String(f.get("model") ?? "").trim() || null : null,
      maxTurns: numberOrNull(f.get("maxTurns")),
      timeoutMs: timeoutMin === null ? null : Math.round(timeoutMin * 60_000),
      budgetUsd: numberOrNull(f.get("budgetUsd")),
      dod: items,
      requireIndependentReview: f.get("requireIndependentReview") === "on",
      isDefault: f.get("isDefault") === "on" ? true : undefined,
    };
    if (workflow) update.mutate({ workflowId: workflow.id, ...common });
    else create.mutate({ workspaceId, ...common });
  }

  const setRow = (i: number, patch: Partial<DodRow>) => setDod((rows) => rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <form
      onSubmit={submit}
      aria-label={workflow ? `Edit workflow ${workflow.name}` : "New workflow"}
      className="space-y-3 rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800"
    >
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Workflow name">
          <Input name="name" defaultValue={workflow?.name} required />
        </Field>
        <Field label="Engine">
          <Select name="engine" value={engine} onChange={(e) => isEngine(e.target.value) && setEngine(e.target.value)}>
            {ENGINES.map((e) => (
              <option key={e.id} value={e.id}>
                {e.label}
              </option>
            ))}
          </Select>
        </Field>
        {engine === "command" ? (
          <Field label="Command (command engine)">
            <Input name="command" defaultValue={workflow?.command ?? ""} required />
          </Field>
        ) : (
          <Field label="Model" hint={takesModel(engine) ? "Empty: the runner's default." : "This engine's agent chooses its model."}>
            <Input name="model" list="workflow-models" defaultValue={workflow?.model ?? ""} placeholder="runner default" disabled={!takesModel(engine)} />
          </Field>
        )}
        <datalist id="workflow-models">
          {MODELS.map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
      </div>
      <fieldset className="grid gap-3 sm:grid-cols-3">
        <legend className="mb-1 text-xs font-medium text-zinc-600 dark:text-zinc-400">Limits (empty: none beyond the runner's)</legend>
        <Field label="Max turns">
          <Input name="maxTurns" type="number" min={1} max={1000} step={1} defaultValue={workflow?.maxTurns ?? ""} />
        </Field>
        <Field label="Timeout (minutes)">
          <Input name="timeoutMin" type="number" min={1} max={1440} step="any" defaultValue={workflow?.timeoutMs != null ? workflow.timeoutMs / 60_000 : ""} />
        </Field>
        <Field label="Budget per run (USD)">
          <Input name="budgetUsd" type="number" min={0.01} max={100000} step="any" defaultValue={workflow?.budgetUsd ?? ""} />
        </Field>
      </fieldset>
      <Field
        label="Prompt template"
        hint="{{card.title}}, {{card.description}}, {{card.id}}, {{project.name}}, {{project.baseBranch}}, {{project.testCommand}}"
      >
        <Textarea name="promptTemplate" rows={4} value={template} onChange={(e) => setTemplate(e.target.value)} required />
      </Field>
      {engine === "command" ? null : <TemplatePreview workspaceId={workspaceId} template={template} />}
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
            <label className="flex items-center gap-1 text-xs" title="A validation given on an older head keeps counting after the branch moves">
              <input type="checkbox" checked={d.carryOver} onChange={(e) => setRow(i, { carryOver: e.target.checked })} /> carries over
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
        <input type="checkbox" name="requireIndependentReview" defaultChecked={workflow?.requireIndependentReview ?? false} /> Four eyes: who asks for a run
        does not validate it, and its only reviewer does not merge it
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

/** Keeps a value until it stops changing for a moment (the preview is a server round trip). */
function useSettled<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

/** The template as it is being typed, rendered against a chosen card (`workflow.previewTemplate`). */
function TemplatePreview({ workspaceId, template }: { workspaceId: string; template: string }) {
  const trpc = useTRPC();
  const boards = useQuery(trpc.board.list.queryOptions({ workspaceId }));
  const [boardId, setBoardId] = useState("");
  const board = boardId || boards.data?.[0]?.id || "";
  const cards = useQuery(trpc.card.list.queryOptions({ boardId: board }, { enabled: !!board }));
  const [cardId, setCardId] = useState("");
  const card = cards.data?.some((c) => c.id === cardId) ? cardId : (cards.data?.[0]?.id ?? "");
  const settled = useSettled(template);
  const preview = useQuery(
    trpc.workflow.previewTemplate.queryOptions(
      { workspaceId, cardId: card, promptTemplate: settled },
      { enabled: !!card && settled.trim() !== "", placeholderData: keepPreviousData },
    ),
  );
  return (
    <section aria-label="Prompt preview" className="space-y-2 rounded-lg bg-zinc-50 p-3 dark:bg-zinc-950">
      <div className="grid gap-2 sm:grid-cols-2">
        <Field label="Preview on board">
          <Select value={board} onChange={(e) => setBoardId(e.target.value)} disabled={!boards.data?.length}>
            {boards.data?.length ? null : <option value="">(no boards)</option>}
            {boards.data?.map((b) => (
              <option key={b.id} value={b.id}>
                {b.name}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Preview with card">
          <Select value={card} onChange={(e) => setCardId(e.target.value)} disabled={!cards.data?.length}>
            {cards.data?.length ? null : <option value="">(no cards)</option>}
            {cards.data?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.title}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      {!card ? <p className="text-xs text-zinc-500">Add a card to a board to see the prompt it would get.</p> : null}
      {preview.error ? <p className="text-xs text-red-600">{errorMessage(preview.error)}</p> : null}
      {preview.data ? (
        <pre
          data-testid="template-preview"
          className="max-h-48 overflow-auto whitespace-pre-wrap rounded bg-white p-2 font-mono text-xs ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800"
        >
          {preview.data.prompt}
        </pre>
      ) : null}
    </section>
  );
}
