import { createHash, randomBytes } from "node:crypto";
import type { Role } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { AppError, badRequest, conflict, notFound } from "../errors.js";

/** The roles a person can hold in a workspace (runner is for tokens only). */
export type MemberRole = Exclude<Role, "runner">;

const hash = (code: string) => createHash("sha256").update(code).digest("hex");
const SETUP_IDENTIFIER = "agentboard:setup";
const SETUP_TTL_MS = 24 * 3600_000;

export async function listMembers(deps: Deps, workspaceId: string) {
  const rows = await deps.db.prisma.workspaceMember.findMany({
    where: { workspaceId },
    select: { userId: true, role: true, createdAt: true, version: true, user: { select: { name: true, email: true, serverAdmin: true } } },
    orderBy: { createdAt: "asc" },
  });
  return rows.map((r) => ({
    userId: r.userId,
    name: r.user.name,
    email: r.user.email,
    role: r.role,
    serverAdmin: r.user.serverAdmin,
    since: r.createdAt,
    version: r.version,
  }));
}

async function adminCount(deps: Deps, workspaceId: string): Promise<number> {
  return deps.db.prisma.workspaceMember.count({ where: { workspaceId, role: "admin" } });
}

/** A workspace keeps at least one admin: the last one can be neither demoted nor removed. */
export async function changeRole(deps: Deps, input: { workspaceId: string; userId: string; role: MemberRole }) {
  const prisma = deps.db.prisma;
  const row = await prisma.workspaceMember.findUnique({ where: { workspaceId_userId: { workspaceId: input.workspaceId, userId: input.userId } } });
  if (!row) throw notFound("member", input.userId);
  if (row.role === "admin" && input.role !== "admin" && (await adminCount(deps, input.workspaceId)) <= 1) {
    throw conflict("LAST_ADMIN", "a workspace needs at least one admin: make someone else admin first", { field: "role" });
  }
  const updated = await prisma.workspaceMember.update({ where: { id: row.id }, data: { role: input.role, version: { increment: 1 } } });
  return { userId: updated.userId, role: updated.role, version: updated.version };
}

export async function removeMember(deps: Deps, input: { workspaceId: string; userId: string }) {
  const prisma = deps.db.prisma;
  const row = await prisma.workspaceMember.findUnique({ where: { workspaceId_userId: input } });
  if (!row) throw notFound("member", input.userId);
  if (row.role === "admin" && (await adminCount(deps, input.workspaceId)) <= 1) {
    throw conflict("LAST_ADMIN", "a workspace needs at least one admin: make someone else admin first");
  }
  await prisma.workspaceMember.delete({ where: { id: row.id } });
  // Their personal tokens scoped to this workspace can do nothing any more; revoke them so the list says so.
  await prisma.apiToken.updateMany({ where: { userId: input.userId, workspaceId: input.workspaceId, revokedAt: null }, data: { revokedAt: new Date() } });
  return { userId: input.userId, removed: true };
}

export async function addMember(deps: Deps, input: { workspaceId: string; userId: string; role: MemberRole }) {
  return deps.db.prisma.workspaceMember.upsert({
    where: { workspaceId_userId: { workspaceId: input.workspaceId, userId: input.userId } },
    create: input,
    update: { role: input.role, version: { increment: 1 } },
  });
}

// Invitations ----------------------------------------------------------------------------

export async function createInvitation(deps: Deps, actor: string, input: { workspaceId: string; role: MemberRole; email?: string; days?: number }) {
  const code = `inv_${randomBytes(24).toString("base64url")}`;
  const expiresAt = new Date(Date.now() + (input.days ?? 7) * 24 * 3600_000);
  const row = await deps.db.prisma.invitation.create({
    data: { workspaceId: input.workspaceId, role: input.role, email: input.email?.toLowerCase() ?? null, tokenHash: hash(code), createdBy: actor, expiresAt },
  });
  const path = `/invite#code=${code}`;
  // Mailed when SMTP is configured and the invitation names someone; the link is in the answer either way.
  let emailed = false;
  if (row.email && deps.mailer) {
    const workspace = await deps.db.prisma.workspace.findUniqueOrThrow({ where: { id: input.workspaceId }, select: { name: true } });
    await deps.mailer.send({
      to: row.email,
      subject: `You are invited to ${workspace.name} on agentboard`,
      text:
        `${actor.replace(/^user:/, "")} invited you to the workspace ${workspace.name} as ` +
        `${row.role}.\n\nJoin: ${deps.mailer.publicUrl}${path}\n\nThe link works once and expires ` +
        `on ${row.expiresAt.toUTCString()}.\n`,
    });
    emailed = true;
  }
  return { id: row.id, role: row.role, email: row.email, expiresAt: row.expiresAt, code, path, emailed };
}

export async function listInvitations(deps: Deps, workspaceId: string) {
  return deps.db.prisma.invitation.findMany({
    where: { workspaceId },
    select: { id: true, role: true, email: true, createdBy: true, createdAt: true, expiresAt: true, acceptedAt: true, acceptedBy: true, revokedAt: true },
    orderBy: { createdAt: "desc" },
    take: 200,
  });
}

export async function invitationWorkspace(deps: Deps, id: string): Promise<string> {
  const row = await deps.db.prisma.invitation.findUnique({ where: { id }, select: { workspaceId: true } });
  if (!row) throw notFound("invitation", id);
  return row.workspaceId;
}

export async function revokeInvitation(deps: Deps, id: string) {
  const { count } = await deps.db.prisma.invitation.updateMany({ where: { id, acceptedAt: null, revokedAt: null }, data: { revokedAt: new Date() } });
  if (count === 0) throw conflict("INVALID_STATE", "that invitation was already accepted or revoked");
  return { id, revoked: true };
}

const invalidInvitation = () =>
  new AppError("NOT_FOUND", "INVITATION_INVALID", "this invitation link is not valid (unknown, expired, revoked or already used)");

/** What an invitation link offers, for the page that accepts it. Knowing the code is the permission. */
export async function previewInvitation(deps: Deps, code: string) {
  const row = await deps.db.prisma.invitation.findUnique({
    where: { tokenHash: hash(code) },
    select: { role: true, email: true, expiresAt: true, acceptedAt: true, revokedAt: true, workspace: { select: { name: true } } },
  });
  if (!row || row.acceptedAt || row.revokedAt || row.expiresAt.getTime() <= Date.now()) throw invalidInvitation();
  return { workspaceName: row.workspace.name, role: row.role, email: row.email, expiresAt: row.expiresAt };
}

/**
 * Takes an invitation for a user, once: the update is conditional, so two acceptances of
 * one link cannot both succeed. The membership is made (or its role set) in the same step.
 */
export async function acceptInvitation(deps: Deps, input: { code: string; userId: string; email: string }) {
  const prisma = deps.db.prisma;
  const row = await prisma.invitation.findUnique({ where: { tokenHash: hash(input.code) } });
  if (!row || row.acceptedAt || row.revokedAt || row.expiresAt.getTime() <= Date.now()) throw invalidInvitation();
  if (row.email && row.email !== input.email.toLowerCase()) {
    throw new AppError("FORBIDDEN", "FORBIDDEN", `this invitation is for ${row.email}`);
  }
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.invitation.updateMany({
      where: { id: row.id, acceptedAt: null, revokedAt: null },
      data: { acceptedAt: new Date(), acceptedBy: `user:${input.email}` },
    });
    if (count === 0) throw invalidInvitation();
    const existing = await tx.workspaceMember.findUnique({ where: { workspaceId_userId: { workspaceId: row.workspaceId, userId: input.userId } } });
    // An invitation never lowers a role someone already has.
    const rank = { viewer: 1, member: 2, admin: 3, runner: 0 } as const;
    if (existing && rank[existing.role] >= rank[row.role]) return { workspaceId: row.workspaceId, role: existing.role };
    const member = await tx.workspaceMember.upsert({
      where: { workspaceId_userId: { workspaceId: row.workspaceId, userId: input.userId } },
      create: { workspaceId: row.workspaceId, userId: input.userId, role: row.role },
      update: { role: row.role, version: { increment: 1 } },
    });
    return { workspaceId: member.workspaceId, role: member.role };
  });
}

/** Checks an invitation before an account is made for it (the acceptance itself comes after). */
export async function checkInvitationFor(deps: Deps, code: string, email: string) {
  const preview = await previewInvitation(deps, code);
  if (preview.email && preview.email !== email.toLowerCase()) throw badRequest(`this invitation is for ${preview.email}`, "email");
  return preview;
}

// The setup link -------------------------------------------------------------------------

/**
 * While no server administrator exists, each start makes a one-time setup code (the
 * previous one stops working) and the server prints the link that carries it. Only its
 * hash is stored. Null once an administrator exists.
 */
export async function ensureSetupCode(deps: Deps): Promise<string | null> {
  const prisma = deps.db.prisma;
  if (await prisma.user.count({ where: { serverAdmin: true } })) return null;
  const code = `setup_${randomBytes(24).toString("base64url")}`;
  await prisma.verification.deleteMany({ where: { identifier: SETUP_IDENTIFIER } });
  await prisma.verification.create({
    data: { id: randomBytes(16).toString("hex"), identifier: SETUP_IDENTIFIER, value: hash(code), expiresAt: new Date(Date.now() + SETUP_TTL_MS) },
  });
  return code;
}

/** Whether a setup code is the live one (without using it). */
export async function setupCodeIsValid(deps: Deps, code: string): Promise<boolean> {
  const n = await deps.db.prisma.verification.count({ where: { identifier: SETUP_IDENTIFIER, value: hash(code), expiresAt: { gt: new Date() } } });
  return n > 0;
}

/** Uses the setup code up: true for exactly one caller. */
export async function consumeSetupCode(deps: Deps, code: string): Promise<boolean> {
  const { count } = await deps.db.prisma.verification.deleteMany({ where: { identifier: SETUP_IDENTIFIER, value: hash(code), expiresAt: { gt: new Date() } } });
  return count === 1;
}

/** Makes a user a server administrator and admin of every workspace that exists. */
export async function makeServerAdmin(deps: Deps, userId: string) {
  const prisma = deps.db.prisma;
  await prisma.user.update({ where: { id: userId }, data: { serverAdmin: true } });
  const workspaces = await prisma.workspace.findMany({ select: { id: true } });
  for (const ws of workspaces) await addMember(deps, { workspaceId: ws.id, userId, role: "admin" });
}
