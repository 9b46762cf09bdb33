import type { Role } from "@agentboard/db";

/** Who is calling: resolved from the bearer token for every request. */
export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
  /** Null for the bootstrap admin, which spans every workspace. */
  workspaceId: string | null;
}

/** The name written into run events and provenance fields. */
export function actorOf(p: Principal): string {
  return `${p.role}:${p.name}`;
}

const rank: Record<Exclude<Role, "runner">, number> = { viewer: 1, member: 2, admin: 3 };

export type Need = "viewer" | "member" | "admin" | "runner";

/** Whether a principal may act in a workspace with the needed role. Runners only run runs. */
export function allows(p: Principal, workspaceId: string, need: Need): boolean {
  if (p.workspaceId !== null && p.workspaceId !== workspaceId) return false;
  if (need === "runner") return p.role === "runner" || p.role === "admin";
  if (p.role === "runner") return false;
  return rank[p.role] >= rank[need];
}
