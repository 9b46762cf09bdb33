"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useTRPC } from "@/trpc/react";
import { useSession } from "@/components/session/use-session";
import { useWorkspaceChoice } from "@/components/workspace/use-workspace-choice";
import { WorkspacePicker } from "@/components/workspace/workspace-picker";
import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/field";
import { Empty, ErrorState, Loading } from "@/components/ui/states";
import { can } from "@/lib/roles";
import { errorMessage } from "@/lib/errors";
import { timeAgo } from "@/lib/format";

const ROLES = ["admin", "member", "viewer"] as const;
type MemberRole = (typeof ROLES)[number];

/** A workspace's people: everyone sees who is in it; admins invite, change roles and remove. */
export function MembersPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { session } = useSession();
  const { workspaces, chosen, choose } = useWorkspaceChoice();
  const workspaceId = chosen?.id ?? "";
  const isAdmin = can(session, "admin", chosen?.id);
  const members = useQuery(trpc.member.list.queryOptions({ workspaceId }, { enabled: !!chosen }));
  const invitations = useQuery(trpc.invitation.list.queryOptions({ workspaceId }, { enabled: !!chosen && isAdmin }));
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: trpc.member.list.queryKey() });
    void qc.invalidateQueries({ queryKey: trpc.invitation.list.queryKey() });
  };
  const changeRole = useMutation(
    trpc.member.changeRole.mutationOptions({ onSuccess: refresh, onError: (e) => toast.error("Role not changed", { description: errorMessage(e) }) }),
  );
  const remove = useMutation(
    trpc.member.remove.mutationOptions({ onSuccess: refresh, onError: (e) => toast.error("Not removed", { description: errorMessage(e) }) }),
  );
  const revoke = useMutation(trpc.invitation.revoke.mutationOptions({ onSuccess: refresh }));

  return (
    <div className="mx-auto w-full max-w-4xl space-y-6 px-4 py-8">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Members</h1>
          <p className="text-sm text-zinc-500">Admins manage the workspace and merge; members create cards and runs; viewers read.</p>
        </div>
        <WorkspacePicker workspaces={workspaces.data ?? []} value={chosen?.id} onChange={choose} />
      </div>
      {members.isLoading ? <Loading label="Loading members" /> : null}
      {members.error ? <ErrorState error={members.error} retry={() => void members.refetch()} /> : null}
      {members.data?.length === 0 ? <Empty title="No members yet">Invite someone below.</Empty> : null}
      {members.data?.length ? (
        <table className="w-full rounded-xl bg-white text-left text-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800" data-testid="members-table">
          <thead className="border-b border-zinc-200 text-xs text-zinc-500 dark:border-zinc-800">
            <tr>
              <th className="px-4 py-2 font-medium">Person</th>
              <th className="px-4 py-2 font-medium">Role</th>
              <th className="px-4 py-2 font-medium">Since</th>
              {isAdmin ? (
                <th className="px-4 py-2 font-medium">
                  <span className="sr-only">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
            {members.data.map((m) => (
              <tr key={m.userId} data-testid={`member-${m.email}`}>
                <td className="px-4 py-2">
                  <div className="font-medium">{m.name}</div>
                  <div className="text-xs text-zinc-500">{m.email}</div>
                </td>
                <td className="px-4 py-2">
                  {isAdmin ? (
                    <Select
                      aria-label={`Role of ${m.email}`}
                      value={m.role}
                      onChange={(e) => changeRole.mutate({ workspaceId, userId: m.userId, role: e.target.value as MemberRole })}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </Select>
                  ) : (
                    m.role
                  )}
                </td>
                <td className="px-4 py-2 text-xs text-zinc-500">{timeAgo(m.since, Date.now())}</td>
                {isAdmin ? (
                  <td className="px-4 py-2 text-right">
                    <Button
                      size="sm"
                      variant="ghost"
                      onClick={() => confirm(`Remove ${m.email} from this workspace?`) && remove.mutate({ workspaceId, userId: m.userId })}
                    >
                      Remove
                    </Button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {isAdmin && chosen ? <InviteForm workspaceId={workspaceId} onInvited={refresh} /> : null}
      {isAdmin && invitations.data?.length ? (
        <section className="space-y-2">
          <h2 className="text-sm font-semibold">Invitations</h2>
          <ul className="divide-y divide-zinc-100 rounded-xl bg-white text-sm ring-1 ring-zinc-200 dark:divide-zinc-800 dark:bg-zinc-900 dark:ring-zinc-800">
            {invitations.data.map((i) => (
              <li key={i.id} className="flex items-center justify-between gap-4 px-4 py-2">
                <span>
                  {i.email ?? "anyone with the link"} · {i.role} ·{" "}
                  {i.acceptedAt
                    ? `accepted by ${i.acceptedBy ?? "?"}`
                    : i.revokedAt
                      ? "revoked"
                      : new Date(i.expiresAt) < new Date()
                        ? "expired"
                        : `open until ${new Date(i.expiresAt).toLocaleDateString()}`}
                </span>
                {!i.acceptedAt && !i.revokedAt ? (
                  <Button size="sm" variant="ghost" onClick={() => revoke.mutate({ invitationId: i.id })}>
                    Revoke
                  </Button>
                ) : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}

function InviteForm({ workspaceId, onInvited }: { workspaceId: string; onInvited: () => void }) {
  const trpc = useTRPC();
  const [link, setLink] = useState<string | null>(null);
  const [emailed, setEmailed] = useState<string | null>(null);
  const create = useMutation(
    trpc.invitation.create.mutationOptions({
      onSuccess: (inv) => {
        setLink(`${window.location.origin}${inv.path}`);
        setEmailed(inv.emailed ? inv.email : null);
        onInvited();
      },
    }),
  );
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const email = String(form.get("email") ?? "").trim();
    create.mutate({ workspaceId, role: String(form.get("role")) as MemberRole, email: email || undefined });
  }
  return (
    <section className="space-y-3 rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
      <h2 className="text-sm font-semibold">Invite someone</h2>
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3">
        <Field label="Email (optional: only this person may use the link)">
          <Input name="email" type="email" />
        </Field>
        <Field label="Role">
          <Select name="role" defaultValue="member">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </Select>
        </Field>
        <Button type="submit" variant="primary" disabled={create.isPending}>
          Create invitation link
        </Button>
      </form>
      {create.error ? (
        <p role="alert" className="text-sm text-red-600">
          {errorMessage(create.error)}
        </p>
      ) : null}
      {link ? (
        <div className="space-y-1">
          <p className="text-xs text-zinc-500">{emailed ? `Mailed to ${emailed}. ` : ""}Send this link; it works once and is shown only now.</p>
          <Input readOnly value={link} data-testid="invitation-link" onFocus={(e) => e.currentTarget.select()} />
        </div>
      ) : null}
    </section>
  );
}
