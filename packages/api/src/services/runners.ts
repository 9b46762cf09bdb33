import type { Deps } from "./deps.js";
import type { Principal } from "../auth/principal.js";
import { conflict, forbidden, isUniqueViolation, notFound } from "../errors.js";

export interface RegisterRunnerInput {
  workspaceId: string;
  name: string;
  labels?: string[];
  capacity?: number;
  hostname?: string;
  version?: string;
  sandbox?: { available: boolean; reason: string | null; limits: Record<string, string | undefined> };
}

/**
 * A runner record belongs to the token that created it: registering again with that token
 * updates it; another token gets ALREADY_EXISTS (it would otherwise take over the record
 * and read the runs it holds). Only a record whose token was revoked or deleted passes to
 * a new token (a rotated admin token, a runner given a new token).
 */
export async function registerRunner(deps: Deps, principal: Principal, input: RegisterRunnerInput) {
  const prisma = deps.db.prisma;
  const fields = { labels: input.labels ?? [], capacity: input.capacity ?? 1, hostname: input.hostname, version: input.version, sandbox: input.sandbox };
  const name = { workspaceId: input.workspaceId, name: input.name };
  const existing = await prisma.runner.findUnique({ where: { workspaceId_name: name }, select: { id: true, tokenId: true } });
  if (!existing) {
    try {
      return await prisma.runner.create({ data: { ...name, ...fields, tokenId: principal.tokenId } });
    } catch (err) {
      // Registered by someone else at the same moment: decide as if it had been there.
      if (isUniqueViolation(err)) return registerRunner(deps, principal, input);
      throw err;
    }
  }
  if (existing.tokenId !== principal.tokenId && (await tokenIsLive(deps, existing.tokenId))) {
    throw conflict("ALREADY_EXISTS", `the runner name ${input.name} belongs to another token`, { name: input.name });
  }
  // Conditional on the owner read above, so two tokens taking over at once cannot both win.
  const updated = await prisma.runner.updateMany({
    where: { id: existing.id, tokenId: existing.tokenId },
    data: { ...fields, tokenId: principal.tokenId, lastSeenAt: new Date() },
  });
  if (updated.count === 0) return registerRunner(deps, principal, input);
  return prisma.runner.findUniqueOrThrow({ where: { id: existing.id } });
}

async function tokenIsLive(deps: Deps, tokenId: string | null): Promise<boolean> {
  if (!tokenId) return false;
  const token = await deps.db.prisma.apiToken.findUnique({ where: { id: tokenId }, select: { revokedAt: true } });
  return token !== null && token.revokedAt === null;
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
      if (runner.tokenId !== principal.tokenId) throw forbidden("runner belongs to another token");
      id = runner.id;
    } else {
      // Keyed by the token itself: two tokens may share a display name, never a runner.
      id = (await registerRunner(deps, principal, { workspaceId, name: `token:${principal.tokenId}` })).id;
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
