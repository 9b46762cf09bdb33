import type { Deps } from "./deps.js";
import type { Principal } from "../auth/principal.js";
import { forbidden, notFound } from "../errors.js";

export interface RegisterRunnerInput {
  workspaceId: string;
  name: string;
  labels?: string[];
  capacity?: number;
  hostname?: string;
  version?: string;
  sandbox?: { available: boolean; reason: string | null; limits: Record<string, string | undefined> };
}

export async function registerRunner(deps: Deps, principal: Principal, input: RegisterRunnerInput) {
  return deps.db.prisma.runner.upsert({
    where: { workspaceId_name: { workspaceId: input.workspaceId, name: input.name } },
    update: { labels: input.labels ?? [], capacity: input.capacity ?? 1, hostname: input.hostname, version: input.version, sandbox: input.sandbox, tokenId: principal.tokenId, lastSeenAt: new Date() },
    create: { workspaceId: input.workspaceId, name: input.name, labels: input.labels ?? [], capacity: input.capacity ?? 1, hostname: input.hostname, version: input.version, sandbox: input.sandbox, tokenId: principal.tokenId },
  });
}

/**
 * The runner record a claim is made for: the one named by `runnerId` (it must belong to
 * the caller's token), or one implicitly registered for the token itself. Cached per
 * process: claims are the hot path.
 */
export class RunnerIdentity {
  private readonly cache = new Map<string, string>();
  private readonly lastTouched = new Map<string, number>();

  /**
   * Records that a runner is alive. Called on every claim (an idle runner's only sign of
   * life is its long-poll), so it writes at most once per runner every few seconds — far
   * below the runners page's "offline" threshold.
   */
  async touch(deps: Deps, runnerId: string): Promise<void> {
    const now = Date.now();
    if (now - (this.lastTouched.get(runnerId) ?? 0) < 5_000) return;
    if (this.lastTouched.size > 10_000) this.lastTouched.clear();
    this.lastTouched.set(runnerId, now);
    await deps.db.prisma.runner.update({ where: { id: runnerId }, data: { lastSeenAt: new Date(now) } });
  }

  async resolve(deps: Deps, principal: Principal, workspaceId: string, runnerId?: string): Promise<string> {
    const key = `${principal.tokenId}|${workspaceId}|${runnerId ?? ""}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    let id: string;
    if (runnerId) {
      const runner = await deps.db.prisma.runner.findUnique({ where: { id: runnerId } });
      if (!runner || runner.workspaceId !== workspaceId) throw notFound("runner", runnerId);
      if (principal.role !== "admin" && runner.tokenId !== principal.tokenId) throw forbidden("runner belongs to another token");
      id = runner.id;
    } else {
      id = (await registerRunner(deps, principal, { workspaceId, name: `token:${principal.name}` })).id;
    }
    this.cache.set(key, id);
    return id;
  }
}

export async function listRunners(deps: Deps, workspaceId: string) {
  const runners = await deps.db.prisma.runner.findMany({
    where: { workspaceId },
    orderBy: { name: "asc" },
    include: {
      runs: {
        where: { status: { in: ["claimed", "running"] } },
        select: { id: true, status: true, cardId: true, heartbeatAt: true, startedAt: true, card: { select: { title: true } } },
      },
    },
  });
  return runners;
}

