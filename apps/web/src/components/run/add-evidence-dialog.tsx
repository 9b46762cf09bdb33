"use client";

import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import type { RouterInputs, RunDetail } from "@/trpc/types";
import { errorMessage } from "@/lib/errors";
import { formatBytes } from "@/lib/format";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select, Textarea } from "@/components/ui/field";
import { useRefreshRun } from "./use-refresh-run";

/**
 * The server's limit (packages/api services/evidence-files.ts EVIDENCE_MAX_BYTES). It is
 * repeated here, not imported, because that module is server code; the server enforces it
 * anyway — this only spares uploading megabytes that would be refused.
 */
export const EVIDENCE_MAX_BYTES = 5 * 1024 * 1024;

const NEW_ITEM = "__new__";
const KEY_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

type Kind = "text" | "url" | "file";
const KINDS: { id: Kind; label: string }[] = [
  { id: "text", label: "Text (a note, a test summary)" },
  { id: "url", label: "Link (CI job, review, deployment)" },
  { id: "file", label: "File (log, report, screenshot)" },
];
const isKind = (v: string): v is Kind => KINDS.some((k) => k.id === v);

type AddEvidenceInput = RouterInputs["dod"]["addEvidence"];

/** Why a file cannot be sent, before any byte leaves the browser; null when it can. */
export function fileProblem(file: File): string | null {
  if (file.size > EVIDENCE_MAX_BYTES) return `${file.name} is ${formatBytes(file.size)}; the limit is ${formatBytes(EVIDENCE_MAX_BYTES)}`;
  if (file.size === 0) return `${file.name} is empty`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the check refuses.
  if (/[/\\\u0000-\u001f\u007f]/.test(file.name) || file.name !== file.name.trim() || file.name.length > 255)
    return "the file name is not one the server accepts; rename the file";
  return null;
}

function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error ?? new Error("could not read the file"));
    // A data URL is `data:<type>;base64,<payload>`: the payload is everything after the comma.
    reader.onload = () => resolve(String(reader.result).slice(String(reader.result).indexOf(",") + 1));
    reader.readAsDataURL(file);
  });
}

export function AddEvidenceDialog({ run, open, initialItemId, onClose }: { run: RunDetail; open: boolean; initialItemId: string | null; onClose: () => void }) {
  const item = run.dodItems.find((i) => i.id === initialItemId);
  return (
    <Dialog open={open} onClose={onClose} title={item ? `Add evidence: ${item.title}` : "Add evidence"}>
      {/* Mounted only while open (the dialog renders children then), so each opening starts fresh. */}
      <AddEvidenceForm run={run} initialItemId={initialItemId} onDone={onClose} />
    </Dialog>
  );
}

function AddEvidenceForm({ run, initialItemId, onDone }: { run: RunDetail; initialItemId: string | null; onDone: () => void }) {
  const trpc = useTRPC();
  const refresh = useRefreshRun(run.id);
  const firstOpen = run.dodItems.find((i) => i.status !== "validated") ?? run.dodItems[0];
  const [itemChoice, setItemChoice] = useState<string>(initialItemId ?? firstOpen?.id ?? NEW_ITEM);
  const [newKey, setNewKey] = useState("");
  const [newTitle, setNewTitle] = useState("");
  const [kind, setKind] = useState<Kind>("text");
  const [text, setText] = useState("");
  const [url, setUrl] = useState("");
  const [note, setNote] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [reading, setReading] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const add = useMutation(
    trpc.dod.addEvidence.mutationOptions({
      onSuccess: (r) => {
        toast.success("Evidence added", { description: r.item.title });
        refresh();
        onDone();
      },
    }),
  );

  const isNew = itemChoice === NEW_ITEM;
  const keyProblem = isNew && newKey && !KEY_PATTERN.test(newKey) ? "lowercase letters, digits and _ . - (starting with a letter or digit), at most 64" : null;
  const fileIssue = kind === "file" && file ? fileProblem(file) : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    if (isNew && !KEY_PATTERN.test(newKey)) return setProblem("Give the new item a key");
    const ref = isNew ? { itemKey: newKey, itemTitle: newTitle.trim() || undefined } : { itemId: itemChoice };
    let input: AddEvidenceInput;
    if (kind === "text") {
      if (!text.trim()) return setProblem("Write the evidence");
      input = { runId: run.id, ...ref, kind, payload: { text } };
    } else if (kind === "url") {
      input = { runId: run.id, ...ref, kind, payload: { url: url.trim(), note: note.trim() || undefined } };
    } else {
      if (!file) return setProblem("Choose a file");
      if (fileIssue) return setProblem(fileIssue);
      setReading(true);
      try {
        input = { runId: run.id, ...ref, kind, payload: { name: file.name, contentBase64: await readBase64(file) } };
      } catch (err) {
        return setProblem(errorMessage(err));
      } finally {
        setReading(false);
      }
    }
    add.mutate(input);
  };

  const busy = reading || add.isPending;
  return (
    <form onSubmit={(e) => void submit(e)} className="space-y-3">
      <Field label="Item" hint={isNew ? "A new item is optional: evidence cannot add a condition to someone's merge." : undefined}>
        <Select value={itemChoice} onChange={(e) => setItemChoice(e.target.value)}>
          {run.dodItems.map((i) => (
            <option key={i.id} value={i.id}>
              {i.title} ({i.key}){i.required ? "" : " · optional"}
            </option>
          ))}
          <option value={NEW_ITEM}>New item…</option>
        </Select>
      </Field>
      {isNew ? (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Key" hint={keyProblem ?? "e.g. screenshots, perf.report"}>
            <Input
              value={newKey}
              onChange={(e) => setNewKey(e.target.value)}
              required
              maxLength={64}
              className="font-mono"
              aria-invalid={keyProblem ? true : undefined}
            />
          </Field>
          <Field label="Title">
            <Input value={newTitle} onChange={(e) => setNewTitle(e.target.value)} maxLength={200} placeholder="defaults to the key" />
          </Field>
        </div>
      ) : null}
      <Field label="Kind">
        <Select value={kind} onChange={(e) => isKind(e.target.value) && setKind(e.target.value)}>
          {KINDS.map((k) => (
            <option key={k.id} value={k.id}>
              {k.label}
            </option>
          ))}
        </Select>
      </Field>
      {kind === "text" ? (
        <Field label="Evidence">
          <Textarea rows={5} value={text} onChange={(e) => setText(e.target.value)} required maxLength={100_000} placeholder="What was checked, and how" />
        </Field>
      ) : null}
      {kind === "url" ? (
        <>
          <Field label="URL" hint="http or https">
            <Input type="url" value={url} onChange={(e) => setUrl(e.target.value)} required maxLength={2048} placeholder="https://ci.example.com/jobs/123" />
          </Field>
          <Field label="Note">
            <Input value={note} onChange={(e) => setNote(e.target.value)} maxLength={10_000} />
          </Field>
        </>
      ) : null}
      {kind === "file" ? (
        <Field
          label="File"
          hint={
            fileIssue ?? (file ? `${file.name} · ${formatBytes(file.size)}` : `Up to ${formatBytes(EVIDENCE_MAX_BYTES)}. Only the name is kept as a label.`)
          }
        >
          <input
            type="file"
            required
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            aria-invalid={fileIssue ? true : undefined}
            className={
              "block w-full text-sm file:mr-3 file:rounded-md file:border-0 file:bg-zinc-100 file:px-3 " +
              "file:py-1.5 file:text-sm file:font-medium hover:file:bg-zinc-200 dark:file:bg-zinc-800 dark:file:text-zinc-100"
            }
          />
        </Field>
      ) : null}
      {problem || add.error ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          {problem ?? errorMessage(add.error)}
        </p>
      ) : null}
      <div className="flex justify-end gap-2">
        <Button onClick={onDone}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={busy || !!fileIssue || !!keyProblem}>
          {reading ? "Reading the file…" : add.isPending ? "Adding…" : "Add evidence"}
        </Button>
      </div>
    </form>
  );
}
