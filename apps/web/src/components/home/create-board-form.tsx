"use client";

import { useState, type FormEvent } from "react";
import { useRouter } from "next/navigation";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import { toastError } from "@/lib/errors";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/field";

/** Inline: a name and Enter. */
export function CreateBoardForm({ workspaceId }: { workspaceId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const create = useMutation(
    trpc.board.create.mutationOptions({
      onSuccess: (board) => {
        toast.success(`Board “${board.name}” created`);
        setOpen(false);
        setName("");
        void qc.invalidateQueries({ queryKey: trpc.board.list.queryKey({ workspaceId }) });
        router.push(`/boards/${board.id}`);
      },
      onError: toastError("Could not create the board"),
    }),
  );
  if (!open)
    return (
      <Button size="sm" onClick={() => setOpen(true)}>
        New board
      </Button>
    );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate({ workspaceId, name: name.trim() });
  };
  return (
    <form onSubmit={submit} className="flex items-center gap-2">
      <Input
        aria-label="Board name"
        placeholder="Board name"
        value={name}
        autoFocus
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => e.key === "Escape" && setOpen(false)}
        className="w-48"
      />
      <Button size="sm" type="submit" variant="primary" disabled={create.isPending}>
        Create
      </Button>
      <Button size="sm" variant="ghost" onClick={() => setOpen(false)}>
        Cancel
      </Button>
    </form>
  );
}
