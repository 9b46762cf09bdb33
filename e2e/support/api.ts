import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAgentboardClient, type AgentboardClient } from "@agentboard/client";
import { initRepo } from "@agentboard/testkit";
import { E2E } from "./env";

export function adminClient(url: string = E2E.baseURL): AgentboardClient {
  return createAgentboardClient({ url, token: E2E.adminToken });
}

let n = 0;
/** A name no earlier test used on this server. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${++n}`;
}

/** A git repository with one commit on `main`, for runs to work in. */
export function makeRepo(): string {
  return initRepo(mkdtempSync(join(tmpdir(), "agentboard-e2e-repo-")), {
    "README.md": "# demo\n",
    "src/app.ts": "export const answer = 41;\n",
  });
}

/** A workspace with a board and a project (a real git repository). */
export async function seedWorkspace(client: AgentboardClient = adminClient()) {
  const slug = unique("ws").toLowerCase();
  const workspace = await client.workspace.create.mutate({ name: `Team ${slug}`, slug });
  const board = await client.board.create.mutate({ workspaceId: workspace.id, name: "Product" });
  const repoPath = makeRepo();
  const project = await client.project.create.mutate({ workspaceId: workspace.id, name: "webapp", repoPath, baseBranch: "main" });
  return { workspace, board, project, repoPath };
}
