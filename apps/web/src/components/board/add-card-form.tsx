"use client";

import { useState, type FormEvent } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { CardColumn } from "@/trpc/types";
import { toastError } from "@/lib/errors";
import { Button } from "@/components/ui/button";
import { Select, Textarea } from "@/components/ui/field";
import { useBoardInfo } from "./board-context";
import { browserStore, loadStartSettings } from "./start-settings";
import { titleProblem } from "@/lib/card-fields";

/**
 * Create a card in place: type a title, Enter. The form stays open for the next one.
 * "Add and start" creates the card and starts its run in one step, with the settings last
 * used to start a run in the project (the workflow's defaults when there are none).
 */
export function AddCardForm({ boardId, column, onCreated }: { boardId: string; column: CardColumn; onCreated: (cardId: string) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { projects, lastProjectId } = useBoardInfo();
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState("");
  const [projectId, setProjectId] = useState<string>("");
  const router = useRouter();
  const startRun = useMutation(
    trpc.run.create.mutationOptions({
      onSuccess: (run) => {
        void qc.invalidateQueries({ queryKey: trpc.card.list.queryKey({ boardId }) });
        toast.success("Card created and its run queued", {
          description: `${run.engine}${run.model ? ` · ${run.model}` : ""} on ${run.branch}`,
          action: { label: "Watch it live", onClick: () => router.push(`/runs/${run.id}`) },
        });
      },
      onError: toastError("The card was created, but its run could not start"),
    }),
  );
  const createAndStart = useMutation(
    trpc.card.create.mutationOptions({
      onSuccess: async (card) => {
        setTitle("");
        const store = browserStore();
        const s = store ? loadStartSettings(store, { cardId: card.id, projectId: card.projectId }) : {};
        startRun.mutate({
          cardId: card.id,
          workflowId: s.workflowId,
          engine: s.engine,
          model: s.model,
          command: s.command,
          agentProfile: s.agentProfile,
          budgetUsd: s.budgetUsd,
        });
        await qc.invalidateQueries({ queryKey: trpc.card.list.queryKey({ boardId }) });
        onCreated(card.id);
      },
      onError: toastError("Could not create the card"),
    }),
  );
  const create = useMutation(
    trpc.card.create.mutationOptions({
      onSuccess: async (card) => {
        setTitle("");
        await qc.invalidateQueries({ queryKey: trpc.card.list.queryKey({ boardId }) });
        void qc.invalidateQueries({ queryKey: trpc.board.byId.queryKey({ boardId }) });
        onCreated(card.id);
      },
      onError: toastError("Could not create the card"),
    }),
  );

  if (!open) {
    return (
      <button
        type="button"
        onClick={() => setOpen(true)}
        className={
          "w-full rounded-md px-2 py-1 text-left text-sm text-zinc-500 hover:bg-zinc-200/70 " +
          "hover:text-zinc-800 dark:hover:bg-zinc-800 dark:hover:text-zinc-200"
        }
      >
        + Add card
      </button>
    );
  }
  if (projects.length === 0) {
    return (
      <p className="rounded-md bg-white p-2 text-xs text-zinc-600 dark:bg-zinc-900 dark:text-zinc-400">
        Cards need a project (a git repository).{" "}
        <Link className="text-indigo-600 underline" href="/">
          Add one
        </Link>{" "}
        first.
      </p>
    );
  }
  // The one picked here, else the board's last-used project, else the first.
  const chosen = projectId || projects.find((p) => p.id === lastProjectId)?.id || projects[0]?.id || "";
  const submit = (e?: FormEvent, start = false) => {
    e?.preventDefault();
    const t = title.trim();
    if (!t || titleProblem(t)) return;
    if (!chosen) return toast.error("Pick a project");
    (start ? createAndStart : create).mutate({ boardId, projectId: chosen, title: t, column });
  };
  const busy = create.isPending || createAndStart.isPending || startRun.isPending;
  // A pasted title over the limit is said, with its length, rather than cut without a word.
  const tooLong = titleProblem(title);
  return (
    <form onSubmit={submit} className="space-y-2 rounded-lg bg-white p-2 shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-700">
      <Textarea
        aria-label={`New card title (${column})`}
        placeholder="What should be done?"
        rows={2}
        autoFocus
        value={title}
        aria-invalid={tooLong ? true : undefined}
        onChange={(e) => setTitle(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            submit();
          }
          if (e.key === "Escape") setOpen(false);
        }}
      />
      {tooLong ? (
        <p role="alert" className="text-xs text-red-600 dark:text-red-400" data-testid="title-problem">
          {tooLong}
        </p>
      ) : null}
      {projects.length > 1 ? (
        <Select aria-label="Project" value={chosen} onChange={(e) => setProjectId(e.target.value)}>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </Select>
      ) : null}
      <div className="flex gap-2">
        <Button type="submit" size="sm" variant="primary" disabled={busy || !title.trim() || !!tooLong}>
          Add card
        </Button>
        <Button
          size="sm"
          onClick={() => submit(undefined, true)}
          disabled={busy || !title.trim() || !!tooLong}
          data-testid="add-and-start"
          title="Create the card and start its run with the project's last settings"
        >
          Add and start
        </Button>
        <Button size="sm" variant="ghost" onClick={() => setOpen(false)}>
          Close
        </Button>
      </div>
    </form>
  );
}
