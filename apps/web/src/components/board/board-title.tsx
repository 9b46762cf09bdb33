"use client";

import { useState, type FormEvent } from "react";
import { useRouter } from "next/navigation";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import { toastError } from "@/lib/errors";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/field";

interface BoardRow {
  id: string;
  name: string;
  workspaceId: string;
  archivedAt: Date | null;
}

/**
 * The board's name, and for admins: rename in place (Enter saves; Escape puts the name
 * back, asking first when it was changed), archive (its runs stay readable) and restore.
 */
export function BoardTitle({ board, isAdmin }: { board: BoardRow; isAdmin: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(board.name);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: trpc.board.byId.queryKey({ boardId: board.id }) });
    void qc.invalidateQueries({ queryKey: trpc.board.list.queryKey() });
  };
  const rename = useMutation(
    trpc.board.rename.mutationOptions({
      onSuccess: (b) => {
        toast.success(`Board renamed “${b.name}”`);
        setEditing(false);
        refresh();
      },
      onError: toastError("Could not rename the board"),
    }),
  );
  const archive = useMutation(
    trpc.board.archive.mutationOptions({
      onSuccess: (r) => {
        toast.success(r.cancelledRuns > 0 ? `Board archived; ${r.cancelledRuns} active run(s) cancelled` : "Board archived: its runs stay readable");
        refresh();
        router.push("/");
      },
      onError: toastError("Could not archive the board"),
    }),
  );
  const restore = useMutation(
    trpc.board.restore.mutationOptions({
      onSuccess: () => {
        toast.success("Board restored");
        refresh();
      },
      onError: toastError("Could not restore the board"),
    }),
  );

  const cancelEdit = () => {
    if (name.trim() !== board.name && !window.confirm("Discard the new name?")) return;
    setName(board.name);
    setEditing(false);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    if (!n || n === board.name) return setEditing(false);
    rename.mutate({ boardId: board.id, name: n });
  };

  if (editing) {
    return (
      <form onSubmit={submit} className="flex items-center gap-2">
        <div className="w-56">
          <Input
            aria-label="Board name"
            value={name}
            autoFocus
            maxLength={200}
            onChange={(e) => setName(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                e.preventDefault();
                cancelEdit();
              }
            }}
          />
        </div>
        <Button size="sm" type="submit" variant="primary" disabled={rename.isPending}>
          Save
        </Button>
        <Button size="sm" variant="ghost" onClick={cancelEdit}>
          Cancel
        </Button>
      </form>
    );
  }
  return (
    <div className="flex min-w-0 items-center gap-2">
      <h1 className="truncate text-lg font-semibold">{board.name}</h1>
      {board.archivedAt ? (
        <span data-testid="board-archived" className="rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-800 dark:bg-amber-900 dark:text-amber-100">
          archived
        </span>
      ) : null}
      {isAdmin && !board.archivedAt ? (
        <>
          <Button
            size="sm"
            variant="ghost"
            onClick={() => {
              setName(board.name);
              setEditing(true);
            }}
          >
            Rename
          </Button>
          <Button
            size="sm"
            variant="ghost"
            disabled={archive.isPending}
            onClick={() => {
              if (window.confirm(`Archive the board “${board.name}”? Its active runs are cancelled; its cards and runs stay readable and it can be restored.`))
                archive.mutate({ boardId: board.id });
            }}
          >
            Archive
          </Button>
        </>
      ) : null}
      {isAdmin && board.archivedAt ? (
        <Button size="sm" variant="primary" disabled={restore.isPending} onClick={() => restore.mutate({ boardId: board.id })}>
          Restore board
        </Button>
      ) : null}
    </div>
  );
}
