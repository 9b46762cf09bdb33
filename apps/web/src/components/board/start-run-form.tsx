"use client";

import { useEffect, useState, type FormEvent } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { CardRow, Engine } from "@/trpc/types";
import { errorMessage, toastError } from "@/lib/errors";
import { Button } from "@/components/ui/button";
import { Field, Input, Select, Textarea } from "@/components/ui/field";
import { Spinner } from "@/components/ui/states";
import { useBoardInfo } from "./board-context";
import { browserStore, loadStartSettings, saveStartSettings } from "./start-settings";
import { ENGINES, MODELS, isEngine } from "@/lib/engines";

/** Keeps a value until it stops changing for a moment (the preview is a server round trip). */
function useSettled<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

/**
 * Start a run: workflow, engine and model, and the exact prompt that will be sent
 * (`run.previewPrompt` renders it the way `run.create` will). The prompt can be edited.
 */
export function StartRunForm({ card, boardId, onDone }: { card: CardRow; boardId: string; onDone: (runId?: string) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { workspaceId } = useBoardInfo();
  const workflows = useQuery(trpc.workflow.list.queryOptions({ workspaceId }));
  // The card's last settings (or its project's), remembered in this browser.
  const [remembered] = useState(() => {
    const store = browserStore();
    return store ? loadStartSettings(store, { cardId: card.id, projectId: card.projectId }) : {};
  });
  const [workflowId, setWorkflowId] = useState<string>(remembered.workflowId ?? "");
  const [engine, setEngine] = useState<Engine | "">(remembered.engine ?? "");
  const [model, setModel] = useState(remembered.model ?? "");
  const [command, setCommand] = useState(remembered.command ?? "");
  const [agentProfile, setAgentProfile] = useState(remembered.agentProfile ?? "");
  const [budget, setBudget] = useState(remembered.budgetUsd !== undefined ? String(remembered.budgetUsd) : "");
  const [editPrompt, setEditPrompt] = useState(false);
  const [prompt, setPrompt] = useState("");

  const wf = workflows.data?.find((w) => w.id === workflowId) ?? workflows.data?.find((w) => w.isDefault) ?? workflows.data?.[0];
  const effectiveEngine: Engine = engine || wf?.engine || "anthropic";
  const profiles = useQuery(trpc.agentProfile.list.queryOptions({ workspaceId }, { enabled: effectiveEngine === "acp" }));
  const profile = effectiveEngine === "acp" ? agentProfile || profiles.data?.[0]?.name || undefined : undefined;
  const settled = useSettled({
    workflowId: wf?.id,
    engine: effectiveEngine,
    model: model.trim() || undefined,
    command: command.trim() || undefined,
    agentProfile: profile,
  });
  const preview = useQuery(
    trpc.run.previewPrompt.queryOptions(
      {
        cardId: card.id,
        workflowId: settled.workflowId,
        engine: settled.engine,
        model: settled.model,
        command: settled.command,
        agentProfile: settled.agentProfile,
      },
      { placeholderData: keepPreviousData, enabled: !workflows.isLoading },
    ),
  );

  const create = useMutation(
    trpc.run.create.mutationOptions({
      onSuccess: (run, input) => {
        const store = browserStore();
        if (store) {
          saveStartSettings(
            store,
            { cardId: card.id, projectId: card.projectId },
            {
              workflowId: input.workflowId,
              engine: run.engine,
              model: input.model,
              command: input.command,
              agentProfile: input.agentProfile,
              budgetUsd: input.budgetUsd,
            },
          );
        }
        toast.success("Run queued", { description: `${run.engine}${run.model ? ` · ${run.model}` : ""} on ${run.branch}` });
        void qc.invalidateQueries({ queryKey: trpc.card.list.queryKey({ boardId }) });
        void qc.invalidateQueries({ queryKey: trpc.run.list.queryKey() });
        onDone(run.id);
      },
      onError: toastError("Could not start the run"),
    }),
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (effectiveEngine === "command" && !command.trim() && !preview.data?.command) return toast.error("The command engine needs a command");
    const budgetUsd = budget.trim() ? Number(budget) : undefined;
    if (budgetUsd !== undefined && !(Number.isFinite(budgetUsd) && budgetUsd > 0 && budgetUsd <= 100_000))
      return toast.error("The budget is a positive amount of US dollars");
    create.mutate({
      budgetUsd,
      cardId: card.id,
      workflowId: wf?.id,
      engine: effectiveEngine,
      model: model.trim() || undefined,
      command: command.trim() || undefined,
      agentProfile: profile,
      prompt: editPrompt && prompt.trim() ? prompt : undefined,
    });
  };

  return (
    <form onSubmit={submit} className="space-y-3 rounded-lg bg-zinc-50 p-4 ring-1 ring-zinc-200 dark:bg-zinc-950 dark:ring-zinc-800" aria-label="Start a run">
      <div className="grid gap-3 sm:grid-cols-3">
        <Field
          label="Workflow"
          hint={
            wf?.approval === "commands"
              ? "Its commands wait for a member's approval."
              : wf?.approval === "writes"
                ? "Its commands and file changes wait for a member's approval."
                : undefined
          }
        >
          <Select value={wf?.id ?? ""} onChange={(e) => setWorkflowId(e.target.value)} disabled={!workflows.data?.length}>
            {workflows.data?.length ? null : <option value="">(none)</option>}
            {workflows.data?.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
                {w.isDefault ? " (default)" : ""}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Engine">
          <Select value={effectiveEngine} onChange={(e) => isEngine(e.target.value) && setEngine(e.target.value)}>
            {ENGINES.map((e) => (
              <option key={e.id} value={e.id}>
                {e.label}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Model">
          <Input
            list="run-models"
            value={model}
            placeholder={wf?.model ?? "runner default"}
            onChange={(e) => setModel(e.target.value)}
            disabled={effectiveEngine === "command" || effectiveEngine === "acp"}
          />
        </Field>
        <datalist id="run-models">
          {MODELS.map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
      </div>
      <Field label="Budget (USD)" hint="The run stops when it has cost this much; blank: the workflow's or the workspace's limit.">
        <Input
          type="number"
          inputMode="decimal"
          min="0"
          step="0.01"
          value={budget}
          placeholder="no run limit"
          onChange={(e) => setBudget(e.target.value)}
          className="w-32"
          data-testid="run-budget"
        />
      </Field>
      {effectiveEngine === "command" ? (
        <Field label="Command" hint="Runs with /bin/sh in the run's worktree.">
          <Input value={command} placeholder={wf?.command ?? "./scripts/do-the-thing.sh"} onChange={(e) => setCommand(e.target.value)} className="font-mono" />
        </Field>
      ) : null}
      {effectiveEngine === "acp" ? (
        <Field
          label="Agent profile"
          hint="A workspace's ACP agents: admins add them through the API (agentProfile.create, or REST /api/v1/workspaces/{id}/agent-profiles)."
        >
          <Select value={profile ?? ""} onChange={(e) => setAgentProfile(e.target.value)} disabled={!profiles.data?.length}>
            {profiles.data?.length ? null : <option value="">(no profiles yet)</option>}
            {profiles.data?.map((p) => (
              <option key={p.id} value={p.name}>
                {p.name} — {p.command}
              </option>
            ))}
          </Select>
        </Field>
      ) : null}
      {effectiveEngine === "command" ? (
        // The command engine runs its command; no prompt goes anywhere, so none is shown.
        <div data-testid="no-prompt">
          <p className="text-xs text-zinc-500">The command engine runs the command above in the run's worktree; no prompt is sent.</p>
          {preview.data?.dod.length ? (
            <p className="mt-1 text-xs text-zinc-500">Definition of Done: {preview.data.dod.map((d) => d.title).join(" · ")}</p>
          ) : null}
        </div>
      ) : (
        <div>
          <div className="mb-1 flex items-center justify-between">
            <span className="text-xs font-medium text-zinc-600 dark:text-zinc-400">Prompt that will be sent</span>
            <label className="flex items-center gap-1.5 text-xs text-zinc-600 dark:text-zinc-400">
              <input
                type="checkbox"
                checked={editPrompt}
                onChange={(e) => {
                  setEditPrompt(e.target.checked);
                  if (e.target.checked && !prompt) setPrompt(preview.data?.prompt ?? "");
                }}
              />
              Edit
            </label>
          </div>
          {editPrompt ? (
            <Textarea aria-label="Prompt" rows={10} value={prompt} onChange={(e) => setPrompt(e.target.value)} className="font-mono text-xs" />
          ) : preview.error ? (
            <p className="text-sm text-red-600">{errorMessage(preview.error)}</p>
          ) : preview.data ? (
            <pre
              data-testid="prompt-preview"
              className={
                "max-h-64 overflow-auto rounded-md bg-white p-3 font-mono text-xs whitespace-pre-wrap " +
                "ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800"
              }
            >
              {preview.data.prompt}
            </pre>
          ) : (
            <Spinner label="Rendering the prompt" />
          )}
          {preview.data?.dod.length ? (
            <p className="mt-1 text-xs text-zinc-500">Definition of Done: {preview.data.dod.map((d) => d.title).join(" · ")}</p>
          ) : null}
        </div>
      )}
      <div className="flex justify-end gap-2">
        <Button variant="ghost" onClick={() => onDone()}>
          Cancel
        </Button>
        <Button type="submit" variant="primary" disabled={create.isPending}>
          {create.isPending ? "Starting…" : "Start run"}
        </Button>
      </div>
    </form>
  );
}
