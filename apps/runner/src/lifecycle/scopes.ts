/**
 * Where a runner claims: the workspaces it serves, each with the runner record it claims
 * as (registered under the runner's name, so the board shows who holds a run).
 *
 * A runner token sees one workspace; the admin token sees them all — the local runner
 * started by `npm start` uses it to serve every workspace, including ones created later.
 */
import { hostname } from "node:os";
import type { AgentboardClient } from "@agentboard/client";
import type { SandboxSupport } from "@agentboard/sandbox";
import type { RunnerConfig } from "../config.js";
import { ConfigError } from "../config.js";
import { RUNNER_VERSION } from "../version.js";

/** A workspace this runner serves, and the runner record it claims as there. */
export interface ServedWorkspace {
  workspaceId: string;
  slug: string;
  runnerId: string;
}

export interface ScopeSet {
  scopes: ServedWorkspace[];
  /** No --workspace given: every visible workspace, re-read from time to time. */
  followsAll: boolean;
}

export async function resolveScopes(
  client: AgentboardClient,
  config: RunnerConfig,
  known: readonly ServedWorkspace[],
  sandbox: SandboxSupport,
): Promise<ScopeSet> {
  const visible = await client.workspace.list.query();
  const followsAll = config.workspaces.length === 0;
  const chosen = followsAll
    ? visible
    : config.workspaces.map((want) => {
        const ws = visible.find((w) => w.id === want || w.slug === want);
        if (!ws) throw new ConfigError(`workspace ${want} does not exist or this token cannot see it`);
        return ws;
      });
  const scopes: ServedWorkspace[] = [];
  for (const ws of chosen) {
    const existing = known.find((s) => s.workspaceId === ws.id);
    if (existing) {
      scopes.push(existing);
      continue;
    }
    const runner = await client.runner.register.mutate({
      workspaceId: ws.id,
      name: config.name,
      labels: config.labels,
      capacity: config.concurrency,
      hostname: hostname().slice(0, 255),
      version: RUNNER_VERSION,
      sandbox,
    });
    scopes.push({ workspaceId: ws.id, slug: ws.slug, runnerId: runner.id });
  }
  return { scopes, followsAll };
}
