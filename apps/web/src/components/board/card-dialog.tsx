"use client";

import { useEffect, useRef, useState } from "react";
import Link from "next/link";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { CardRow } from "@/trpc/types";
import { COLUMNS, isColumn } from "@/lib/columns";
import { toastError } from "@/lib/errors";
import { stringsOf } from "@/lib/format";
import { labelsProblem, titleProblem } from "@/lib/card-fields";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select, Textarea } from "@/components/ui/field";
import { CardThreads } from "@/components/run/thread-panel";
import { StartRunForm } from "./start-run-form";
import { useMoveCard } from "./use-move-card";

interface Props {
  card: CardRow | undefined;
  boardId: string;
  canEdit: boolean;
  onClose: () => void;
}

/**
 * A card opened from the board: edit it, move it, see its runs, start one. Escape, the
 * backdrop or ✕ ask before unsaved edits are thrown away.
 */
export function CardDialog({ card, boardId, canEdit, onClose }: Props) {
  const dirty = useRef(false);
  const close = () => {
    dirty.current = false;
    onClose();
  };
  return (
    <Dialog
      open={!!card}
      onClose={close}
      title={card ? card.title : "Card"}
      wide
      mayClose={() => !dirty.current || window.confirm("Discard your unsaved changes to this card?")}
    >
      {/* Keyed by card so the form starts from the card it shows. */}
      {card ? (
        <CardDetail
          key={card.id}
          card={card}
          boardId={boardId}
          canEdit={canEdit}
          onClose={close}
          onDirty={(d) => {
            dirty.current = d;
          }}
        />
      ) : null}
    </Dialog>
  );
}

function CardDetail({
  card,
  boardId,
  canEdit: mayEdit,
  onClose,
  onDirty,
}: {
  card: CardRow;
  boardId: string;
  canEdit: boolean;
  onClose: () => void;
  onDirty: (dirty: boolean) => void;
}) {
  // An archived card is read-only until restored (the server refuses new work on it too).
  const canEdit = mayEdit && !card.archivedAt;
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [title, setTitle] = useState(card.title);
  const [description, setDescription] = useState(card.description);
  const [labels, setLabels] = useState(stringsOf(card.labels).join(", "));
  const [starting, setStarting] = useState(false);
  const [started, setStarted] = useState<string | null>(null);
  const cardsKey = trpc.card.list.queryKey({ boardId });
  /** Someone else's save that this one would have overwritten (CONFLICT STALE_VERSION). */
  const [stale, setStale] = useState<{ message: string; title?: string; description?: string; updatedBy?: string | null } | null>(null);
  const update = useMutation(
    trpc.card.update.mutationOptions({
      onSuccess: () => {
        setStale(null);
        toast.success("Card saved");
        void qc.invalidateQueries({ queryKey: cardsKey });
      },
      onError: (err) => {
        const data = (err as { data?: { reason?: string; details?: { current?: { title?: string; description?: string; updatedBy?: string | null } } | null } })
          .data;
        if (data?.reason === "STALE_VERSION") {
          // Keep the unsaved text; load the newer card so that saving again is a decision.
          setStale({ message: err.message, ...data.details?.current });
          void qc.invalidateQueries({ queryKey: cardsKey });
          return;
        }
        toastError("Could not save the card")(err);
      },
    }),
  );
  const archive = useMutation(
    trpc.card.archive.mutationOptions({
      onSuccess: () => {
        toast.success("Card archived: its runs and their history stay readable");
        onClose();
        void qc.invalidateQueries({ queryKey: cardsKey });
      },
      onError: toastError("Could not archive the card"),
    }),
  );
  const remove = useMutation(
    trpc.card.delete.mutationOptions({
      onSuccess: () => {
        toast.success("Card deleted");
        onClose();
        void qc.invalidateQueries({ queryKey: cardsKey });
      },
      onError: toastError("Could not delete the card"),
    }),
  );
  const restore = useMutation(
    trpc.card.restore.mutationOptions({
      onSuccess: () => {
        toast.success("Card restored to the board");
        onClose();
        void qc.invalidateQueries({ queryKey: trpc.card.pathKey() });
      },
      onError: toastError("Could not restore the card"),
    }),
  );
  const move = useMoveCard(boardId);
  const parsedLabels = labels
    .split(",")
    .map((l) => l.trim())
    .filter(Boolean);
  const dirty = title.trim() !== card.title || description !== card.description || parsedLabels.join(",") !== stringsOf(card.labels).join(",");
  useEffect(() => {
    onDirty(dirty);
  }, [dirty, onDirty]);
  const labelsWrong = labelsProblem(parsedLabels);
  const titleWrong = titleProblem(title);
  const save = () => {
    if (!title.trim()) return toast.error("A card needs a title");
    // Said here, next to the field, before anything is sent: nothing typed is lost.
    if (labelsWrong || titleWrong) return;
    update.mutate({ cardId: card.id, version: card.version, title: title.trim(), description, labels: parsedLabels });
  };

  return (
    <div className="space-y-6">
      {card.archivedAt ? (
        <div
          role="status"
          data-testid="card-archived"
          className="flex flex-wrap items-center justify-between gap-2 rounded-md bg-amber-50 p-3 text-sm dark:bg-amber-950/40"
        >
          <span>Archived {new Date(card.archivedAt).toLocaleString()}: off the board, its runs stay readable.</span>
          {mayEdit ? (
            <Button size="sm" variant="primary" disabled={restore.isPending} onClick={() => restore.mutate({ cardId: card.id })}>
              Restore card
            </Button>
          ) : null}
        </div>
      ) : null}
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) {
            e.preventDefault();
            save();
          }
        }}
      >
        <Field label="Title">
          <Input value={title} onChange={(e) => setTitle(e.target.value)} readOnly={!canEdit} aria-invalid={titleWrong ? true : undefined} />
        </Field>
        {titleWrong ? (
          <p role="alert" className="text-xs text-red-600 dark:text-red-400" data-testid="title-problem">
            {titleWrong}
          </p>
        ) : null}
        <Field label="Description" hint={canEdit ? "Ctrl+Enter saves." : undefined}>
          <Textarea rows={5} value={description} onChange={(e) => setDescription(e.target.value)} readOnly={!canEdit} />
        </Field>
        <div className="grid gap-3 sm:grid-cols-2">
          <Field
            label="Labels"
            hint={
              labelsWrong ? (
                <span className="text-red-600 dark:text-red-400" data-testid="labels-problem">
                  {labelsWrong}
                </span>
              ) : (
                "Comma separated: letters, digits and . _ : -"
              )
            }
          >
            <Input value={labels} onChange={(e) => setLabels(e.target.value)} readOnly={!canEdit} aria-invalid={labelsWrong ? true : undefined} />
          </Field>
          <Field label="Column">
            <Select
              value={card.column}
              disabled={!canEdit || move.isPending}
              onChange={(e) => {
                const column = e.target.value;
                if (isColumn(column)) move.mutate({ cardId: card.id, column });
              }}
            >
              {COLUMNS.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title}
                </option>
              ))}
            </Select>
          </Field>
        </div>
        {stale ? (
          <div role="alert" className="space-y-1 rounded-md bg-amber-50 p-3 text-sm dark:bg-amber-950/40" data-testid="stale-version">
            <p className="font-medium">{stale.message}</p>
            <p className="text-xs">
              Their version — title: “{stale.title}”; description: “{(stale.description ?? "").slice(0, 300)}”. Your text is kept here: save again to replace
              theirs.
            </p>
          </div>
        ) : null}
        {canEdit ? (
          <div className="flex items-center justify-between gap-2">
            {card.runs.length === 0 ? (
              <Button
                variant="ghost"
                className="text-red-600 dark:text-red-400"
                disabled={remove.isPending}
                onClick={() => {
                  if (window.confirm(`Delete “${card.title}”? It has no runs.`)) remove.mutate({ cardId: card.id });
                }}
              >
                Delete card
              </Button>
            ) : (
              <Button
                variant="ghost"
                disabled={archive.isPending}
                onClick={() => {
                  if (window.confirm(`Archive “${card.title}”? An active run is cancelled first; its runs stay readable.`)) archive.mutate({ cardId: card.id });
                }}
              >
                Archive card
              </Button>
            )}
            <Button type="submit" variant="primary" disabled={!dirty || update.isPending || !!labelsWrong || !!titleWrong}>
              {update.isPending ? "Saving…" : "Save"}
            </Button>
          </div>
        ) : null}
      </form>

      <section aria-labelledby="card-runs" className="space-y-3">
        <div className="flex items-center justify-between">
          <h3 id="card-runs" className="text-sm font-semibold">
            Runs
          </h3>
          {canEdit && !starting ? (
            <Button
              variant="primary"
              size="sm"
              onClick={() => {
                setStarted(null);
                setStarting(true);
              }}
            >
              Start run
            </Button>
          ) : null}
        </div>
        {started ? (
          <p role="status" className="rounded-lg bg-emerald-50 px-3 py-2 text-sm text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200">
            Run queued.{" "}
            <Link href={`/runs/${started}`} className="font-medium underline" data-testid="open-run">
              Watch it live →
            </Link>
          </p>
        ) : null}
        {starting ? (
          <StartRunForm
            card={card}
            boardId={boardId}
            onDone={(runId) => {
              setStarting(false);
              if (runId) setStarted(runId);
            }}
          />
        ) : null}
        <CardThreads cardId={card.id} />
      </section>
    </div>
  );
}
