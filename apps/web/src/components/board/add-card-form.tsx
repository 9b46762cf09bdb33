"use client";

import { useState, type FormEvent } from "react";
import Link from "next/link";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { CardColumn } from "@/trpc/types";
import { toastError } from "@/lib/errors";
import { Button } from "@/components/ui/button";
import { Select, Textarea } from "@/components/ui/field";
import { useBoardInfo } from "./board-context";

/** Create a card in place: type a title, Enter. The form stays open for the next one. */
export function AddCardForm({ boardId, column, onCreated }: { boardId: string; column: CardColumn; onCreated: (cardId: string) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { projects } = useBoardInfo();
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState("");
  const [projectId, setProjectId] = useState<string>("");
  const create = useMutation(
    trpc.card.create.mutationOptions({
      onSuccess: async (card) => {
        setTitle("");
        await qc.invalidateQueries({ queryKey: trpc.card.list.queryKey({ boardId }) });
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
        className="w-full rounded-md px-2 py-1 text-left text-sm text-zinc-500 hover:bg-zinc-200/70 hover:text-zinc-800 dark:hover:bg-zinc-800 dark:hover:text-zinc-200"
      >
        + Add card
      </button>
    );
  }
  if (projects.length === 0) {
    return (
      <p className="rounded-md bg-white p-2 text-xs text-zinc-600 dark:bg-zinc-900 dark:text-zinc-400">
        Cards need a project (a git repository). <Link className="text-indigo-600 underline" href="/">Add one</Link> first.
      </p>
    );
  }
  const chosen = projectId || projects[0]?.id || "";
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const t = title.trim();
    if (!t) return;
    if (!chosen) return toast.error("Pick a project");
    create.mutate({ boardId, projectId: chosen, title: t, column });
  };
  return (
    <form onSubmit={submit} className="space-y-2 rounded-lg bg-white p-2 shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-700">
      <Textarea
        aria-label={`New card title (${column})`}
        placeholder="What should be done?"
        rows={2}
        autoFocus
        value={title}
        maxLength={300}
        onChange={(e) => setTitle(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            submit();
          }
          if (e.key === "Escape") setOpen(false);
        }}
      />
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
        <Button type="submit" size="sm" variant="primary" disabled={create.isPending || !title.trim()}>
          Add card
        </Button>
        <Button size="sm" variant="ghost" onClick={() => setOpen(false)}>
          Close
        </Button>
      </div>
    </form>
  );
}
