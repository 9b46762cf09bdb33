"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import { toastError } from "@/lib/errors";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";
import { slugify } from "@/lib/slug";

export function CreateWorkspaceForm() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const create = useMutation(
    trpc.workspace.create.mutationOptions({
      onSuccess: (ws) => {
        toast.success(`Workspace “${ws.name}” created`);
        setOpen(false);
        setName("");
        setSlug("");
        void qc.invalidateQueries({ queryKey: trpc.workspace.list.queryKey() });
      },
      onError: toastError("Could not create the workspace"),
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ name: name.trim(), slug: slug || slugify(name) });
  };
  return (
    <>
      <Button variant="primary" onClick={() => setOpen(true)}>
        New workspace
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="New workspace">
        <form onSubmit={submit} className="space-y-4">
          <Field label="Name">
            <Input value={name} onChange={(e) => setName(e.target.value)} required autoFocus maxLength={200} />
          </Field>
          <Field label="Slug" hint="Lowercase letters, digits and dashes.">
            <Input value={slug} placeholder={slugify(name) || "acme"} onChange={(e) => setSlug(e.target.value)} pattern="[a-z0-9](?:[a-z0-9-]*[a-z0-9])?" />
          </Field>
          <div className="flex justify-end gap-2">
            <Button onClick={() => setOpen(false)}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={create.isPending}>
              {create.isPending ? "Creating…" : "Create workspace"}
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
