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
}

export function can(session: Session | undefined, need: "viewer" | "member" | "admin"): boolean {
  return !!session && rank[session.role] >= rank[need];
}

export function isGlobalAdmin(session: Session | undefined): boolean {
  return session?.role === "admin" && session.workspaceId === null;
}
