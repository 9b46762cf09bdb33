import type { Role } from "@/trpc/types";

/**
 * What the UI offers for a role, mirroring the server's checks (packages/api auth): the
 * server decides, this only hides what would be refused.
 */
const rank: Record<Role, number> = { runner: 0, viewer: 1, member: 2, admin: 3 };

export interface Session {
  name: string;
  role: Role;
  /** Null for the server's bootstrap admin, which spans every workspace. */
  workspaceId: string | null;
  /** `session` for a signed-in person, `token` for a token sign-in. */
  kind?: "session" | "token";
  userId?: string | null;
  serverAdmin?: boolean;
  /** A person's roles by workspace (null for tokens without a person). */
  roles?: Record<string, Role> | null;
}

/** The caller's role in a workspace (a person's membership, capped by a token's role). */
export function roleIn(session: Session | undefined, workspaceId: string | undefined): Role | null {
  if (!session) return null;
  if (session.workspaceId !== null && workspaceId && session.workspaceId !== workspaceId) return null;
  if (!session.roles) return session.role;
  if (session.serverAdmin) return session.role;
  const own = workspaceId ? session.roles[workspaceId] : undefined;
  if (!own) return null;
  return rank[own] <= rank[session.role] ? own : session.role;
}

export function can(session: Session | undefined, need: "viewer" | "member" | "admin", workspaceId?: string): boolean {
  const role = roleIn(session, workspaceId);
  return role !== null && role !== "runner" && rank[role] >= rank[need];
}

export function isGlobalAdmin(session: Session | undefined): boolean {
  if (session?.roles) return !!session.serverAdmin && session.role === "admin" && session.workspaceId === null;
  return session?.role === "admin" && session.workspaceId === null;
}
