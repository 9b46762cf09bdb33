import type { Deps } from "./deps.js";
import { badRequest, notFound } from "../errors.js";

/**
 * Agent profiles: named ACP agents per workspace (a program, its arguments and settings), so
 * a team adds the agents it uses without code. A run of engine `acp` names one and keeps a
 * copy (`runs.agent`): what ran stays on record even after the profile is edited.
 */
export interface AgentProfileFields {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  permissions: "allow" | "deny";
}

/** What a run keeps of its profile and its runner starts. */
export type AgentSpec = AgentProfileFields;

function view(row: {
  id: string;
  workspaceId: string;
  name: string;
  command: string;
  args: unknown;
  env: unknown;
  permissions: string;
  createdAt: Date;
  updatedAt: Date;
}) {
  return {
    ...row,
    args: row.args as string[],
    env: row.env as Record<string, string>,
    permissions: row.permissions === "deny" ? ("deny" as const) : ("allow" as const),
  };
}

export async function createAgentProfile(
  deps: Deps,
  input: { workspaceId: string } & Partial<AgentProfileFields> & Pick<AgentProfileFields, "name" | "command">,
) {
  const row = await deps.db.prisma.agentProfile.create({
    data: {
      workspaceId: input.workspaceId,
      name: input.name,
      command: input.command,
      args: input.args ?? [],
      env: input.env ?? {},
      permissions: input.permissions ?? "allow",
    },
  });
  return view(row);
}

export async function updateAgentProfile(deps: Deps, input: { profileId: string } & Partial<AgentProfileFields>) {
  const { profileId, ...fields } = input;
  const row = await deps.db.prisma.agentProfile.update({ where: { id: profileId }, data: fields });
  return view(row);
}

export async function listAgentProfiles(deps: Deps, workspaceId: string) {
  return (await deps.db.prisma.agentProfile.findMany({ where: { workspaceId }, orderBy: { name: "asc" } })).map(view);
}

export async function getAgentProfile(deps: Deps, profileId: string) {
  const row = await deps.db.prisma.agentProfile.findUnique({ where: { id: profileId } });
  if (!row) throw notFound("agent profile", profileId);
  return view(row);
}

export async function deleteAgentProfile(deps: Deps, profileId: string) {
  await deps.db.prisma.agentProfile.delete({ where: { id: profileId } });
  return { id: profileId };
}

/** The snapshot a new `acp` run keeps, by profile name; BAD_REQUEST when there is none. */
export async function agentSpecFor(deps: Deps, workspaceId: string, name: string | undefined): Promise<AgentSpec> {
  if (!name) throw badRequest("an acp run needs an agent profile: give agentProfile (a profile's name)", "agentProfile");
  const row = await deps.db.prisma.agentProfile.findUnique({ where: { workspaceId_name: { workspaceId, name } } });
  if (!row) throw badRequest(`no agent profile named "${name}" in this workspace`, "agentProfile");
  const { name: n, command, args, env, permissions } = view(row);
  return { name: n, command, args, env, permissions };
}
