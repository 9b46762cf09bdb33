import type { Role } from "@agentboard/db";

/**
 * Who is calling, resolved for every request from one of:
 * - a person's session (the board's cookie): `kind: "session"`, roles from their memberships;
 * - a personal access token: `kind: "token"` with `userId`, acting as its user with at most
 *   the token's `role` (and, when the token names a workspace, only there);
 * - a workspace token (member, viewer, admin or runner) or one of the server's own tokens
 *   (the bootstrap admin, the local runner): `kind: "token"` without `userId`.
 */
export interface Principal {
  kind: "session" | "token";
  /** The API token, null for a session. */
  tokenId: string | null;
  /** The person behind a session or a personal token. */
  userId: string | null;
  /** A person's email, or a token's name. */
  name: string;
  /** A token's role; for a personal token, the most it may do; a session: `admin` (its memberships decide). */
  role: Role;
  /** The one workspace of a workspace token or a scoped personal token; null: every workspace it is allowed in. */
  workspaceId: string | null;
  /** A server administrator (or a personal token of one): admin in every workspace. */
  serverAdmin: boolean;
  /** A person's roles by workspace; null for tokens without a user. */
  memberships: ReadonlyMap<string, Role> | null;
}

/** The name written into run events and provenance fields: a person's email, or a token's role and name. */
export function actorOf(p: Principal): string {
  return p.userId ? `user:${p.name}` : `${p.role}:${p.name}`;
}

/** A stable identity the four-eyes rules compare (names can repeat, ids cannot). */
export function identityOf(p: Principal): string {
  return p.userId ? `user:${p.userId}` : `token:${p.tokenId ?? p.name}`;
}

const rank: Record<Exclude<Role, "runner">, number> = { viewer: 1, member: 2, admin: 3 };

function lower(a: Role, b: Role): Role {
  if (a === "runner" || b === "runner") return a === b ? a : "viewer";
  return rank[a] <= rank[b] ? a : b;
}

/** The principal's role in a workspace, or null when it is not in it (the workspace then does not exist for it). */
export function roleIn(p: Principal, workspaceId: string): Role | null {
  if (p.workspaceId !== null && p.workspaceId !== workspaceId) return null;
  if (!p.memberships) return p.role;
  const own = p.serverAdmin ? "admin" : p.memberships.get(workspaceId);
  if (!own) return null;
  return lower(own, p.role);
}

/** The server's administrators: the bootstrap admin token, and people marked server admin (with an admin-capped token). */
export function isServerAdmin(p: Principal): boolean {
  if (p.memberships) return p.serverAdmin && p.role === "admin" && p.workspaceId === null;
  return p.role === "admin" && p.workspaceId === null;
}

export type Need = "viewer" | "member" | "admin" | "runner";

/** Whether a principal may act in a workspace with the needed role. Runners only run runs. */
export function allows(p: Principal, workspaceId: string, need: Need): boolean {
  const role = roleIn(p, workspaceId);
  if (role === null) return false;
  // People do not run runs: only runner tokens and the admin tokens of programs (not a person's).
  if (need === "runner") return role === "runner" || (role === "admin" && p.memberships === null);
  if (role === "runner") return false;
  return rank[role] >= rank[need];
}

/** The workspaces a principal sees; null means every one. */
export function visibleWorkspaces(p: Principal): string[] | null {
  if (p.workspaceId !== null) return [p.workspaceId];
  if (!p.memberships || p.serverAdmin) return null;
  return [...p.memberships.keys()];
}
