"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/field";
import { errorMessage } from "@/lib/errors";
import { timeAgo } from "@/lib/format";

interface TokenRow {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function TokenTable({ rows, onRevoke, testId }: { rows: TokenRow[]; onRevoke: (id: string) => void; testId: string }) {
  if (rows.length === 0) return <p className="text-sm text-zinc-500">None yet.</p>;
  return (
    <table className="w-full text-left text-sm" data-testid={testId}>
      <thead className="text-xs text-zinc-500">
        <tr>
          <th className="py-1 font-medium">Name</th>
          <th className="py-1 font-medium">Role</th>
          <th className="py-1 font-medium">Starts with</th>
          <th className="py-1 font-medium">Last used</th>
          <th className="py-1 font-medium">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
        {rows.map((t) => (
          <tr key={t.id}>
            <td className="py-1.5">{t.name}</td>
            <td className="py-1.5">{t.role}</td>
            <td className="py-1.5 font-mono text-xs">{t.prefix}…</td>
            <td className="py-1.5 text-xs text-zinc-500">{t.lastUsedAt ? timeAgo(t.lastUsedAt, Date.now()) : "never"}</td>
            <td className="py-1.5 text-right">
              {t.revokedAt ? (
                <span className="text-xs text-zinc-500">revoked</span>
              ) : (
                <Button size="sm" variant="ghost" onClick={() => confirm(`Revoke ${t.name}? Programs using it stop at once.`) && onRevoke(t.id)}>
                  Revoke
                </Button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Secret({ value }: { value: string | null }) {
  if (!value) return null;
  return (
    <div className="space-y-1 rounded-md bg-amber-50 p-3 dark:bg-amber-950/40">
      <p className="text-xs text-amber-800 dark:text-amber-300">Copy it now: it is shown only this once.</p>
      <Input readOnly value={value} data-testid="new-token" onFocus={(e) => e.currentTarget.select()} />
    </div>
  );
}

/** The signed-in person's own tokens: they act as this person, with at most the chosen role. */
export function PersonalTokens() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [secret, setSecret] = useState<string | null>(null);
  const list = useQuery(trpc.token.listPersonal.queryOptions());
  const refresh = () => void qc.invalidateQueries({ queryKey: trpc.token.listPersonal.queryKey() });
  const create = useMutation(
    trpc.token.createPersonal.mutationOptions({
      onSuccess: (t) => {
        setSecret(t.token);
        refresh();
      },
    }),
  );
  const revoke = useMutation(trpc.token.revoke.mutationOptions({ onSuccess: refresh }));
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    create.mutate({ name: String(form.get("name") ?? ""), role: String(form.get("role")) as "admin" | "member" | "viewer" });
  }
  return (
    <section className="space-y-3">
      <h2 className="text-lg font-semibold">Personal access tokens</h2>
      <p className="text-sm text-zinc-500">For scripts and the CLI: a token acts as you, never with more than your role in a workspace.</p>
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3" aria-label="New personal token">
        <Field label="Name">
          <Input name="name" required maxLength={200} />
        </Field>
        <Field label="At most">
          <Select name="role" defaultValue="member">
            <option value="admin">admin</option>
            <option value="member">member</option>
            <option value="viewer">viewer</option>
          </Select>
        </Field>
        <Button type="submit" variant="primary" disabled={create.isPending}>
          Create token
        </Button>
      </form>
      {create.error ? (
        <p role="alert" className="text-sm text-red-600">
          {errorMessage(create.error)}
        </p>
      ) : null}
      <Secret value={secret} />
      <TokenTable rows={list.data ?? []} onRevoke={(tokenId) => revoke.mutate({ tokenId })} testId="personal-tokens" />
    </section>
  );
}

/** A workspace's runner tokens (admins): what `npm run runner -- --token …` takes. */
export function RunnerTokens({ workspaceId }: { workspaceId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [secret, setSecret] = useState<string | null>(null);
  const list = useQuery(trpc.token.list.queryOptions({ workspaceId }));
  const refresh = () => void qc.invalidateQueries({ queryKey: trpc.token.list.queryKey() });
  const create = useMutation(
    trpc.token.create.mutationOptions({
      onSuccess: (t) => {
        setSecret(t.token);
        refresh();
      },
    }),
  );
  const revoke = useMutation(trpc.token.revoke.mutationOptions({ onSuccess: refresh }));
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    create.mutate({ workspaceId, role: "runner", name: String(form.get("name") ?? "") });
  }
  return (
    <section className="space-y-3">
      <h2 className="text-lg font-semibold">Runner tokens</h2>
      <p className="text-sm text-zinc-500">A runner token only claims and reports runs of this workspace; the runner is credited by its name.</p>
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3" aria-label="New runner token">
        <Field label="Runner name">
          <Input name="name" required maxLength={100} />
        </Field>
        <Button type="submit" variant="primary" disabled={create.isPending}>
          Create runner token
        </Button>
      </form>
      {create.error ? (
        <p role="alert" className="text-sm text-red-600">
          {errorMessage(create.error)}
        </p>
      ) : null}
      <Secret value={secret} />
      <TokenTable rows={(list.data ?? []).filter((t) => t.role === "runner")} onRevoke={(tokenId) => revoke.mutate({ tokenId })} testId="runner-tokens" />
    </section>
  );
}
