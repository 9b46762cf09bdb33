import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Role } from "@agentboard/db";
import type { Deps } from "./deps.js";
import type { Principal } from "../auth/principal.js";
import { generateToken, hashToken, tokenPrefix } from "../auth/tokens.js";
import { notFound } from "../errors.js";

export async function createToken(deps: Deps, input: { workspaceId: string; role: Role; name: string }) {
  const token = generateToken();
  const row = await deps.db.prisma.apiToken.create({
    data: { workspaceId: input.workspaceId, role: input.role, name: input.name, tokenHash: hashToken(token), prefix: tokenPrefix(token) },
  });
  return { id: row.id, name: row.name, role: row.role, workspaceId: row.workspaceId, prefix: row.prefix, createdAt: row.createdAt, token };
}

export async function listTokens(deps: Deps, workspaceId: string) {
  return deps.db.prisma.apiToken.findMany({
    where: { workspaceId },
    select: { id: true, name: true, role: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true, workspaceId: true },
    orderBy: { createdAt: "asc" },
  });
}

export async function getTokenWorkspace(deps: Deps, tokenId: string): Promise<string | null> {
  const row = await deps.db.prisma.apiToken.findUnique({ where: { id: tokenId }, select: { workspaceId: true } });
  if (!row) throw notFound("token", tokenId);
  return row.workspaceId;
}

export async function revokeToken(deps: Deps, tokenId: string, cache: TokenCache) {
  const row = await deps.db.prisma.apiToken.update({ where: { id: tokenId }, data: { revokedAt: new Date() }, omit: { tokenHash: false } });
  cache.forget(row.tokenHash);
  return { id: row.id, revokedAt: row.revokedAt };
}

/**
 * Resolves bearer tokens with a short-lived cache: the hot paths (claim, heartbeat) must
 * not pay a lookup each call. Revocation clears this process's entry at once; other
 * replicas see it within the TTL.
 */
export class TokenCache {
  private readonly entries = new Map<string, { principal: Principal | null; until: number }>();
  constructor(private readonly ttlMs = 5_000) {}

  async resolve(deps: Deps, token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const hit = this.entries.get(hash);
    const now = Date.now();
    if (hit && hit.until > now) return hit.principal;
    const row = await deps.db.prisma.apiToken.findUnique({ where: { tokenHash: hash } });
    const principal: Principal | null =
      row && !row.revokedAt ? { tokenId: row.id, name: row.name, role: row.role, workspaceId: row.workspaceId } : null;
    if (row && !row.revokedAt && (!row.lastUsedAt || now - row.lastUsedAt.getTime() > 60_000)) {
      await deps.db.prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } });
    }
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(hash, { principal, until: now + this.ttlMs });
    return principal;
  }

  forget(hash: string): void {
    this.entries.delete(hash);
  }
}

/**
 * Makes sure an admin can get in on first start. `AGENTBOARD_ADMIN_TOKEN` is accepted as
 * given; otherwise a token is created once and kept (mode 0600) in the data directory.
 * Returns the token and whether it was just created (then the caller prints it).
 */
export async function ensureBootstrapAdmin(deps: Deps, opts: { envToken?: string; dataDir: string }): Promise<{ token: string; created: boolean; file?: string }> {
  const file = join(opts.dataDir, "admin-token");
  let token = opts.envToken?.trim();
  let created = false;
  if (!token) {
    if (existsSync(file)) token = readFileSync(file, "utf8").trim();
    if (!token) {
      token = generateToken();
      mkdirSync(opts.dataDir, { recursive: true });
      writeFileSync(file, `${token}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      created = true;
    }
  }
  const tokenHash = hashToken(token);
  await deps.db.prisma.apiToken.upsert({
    where: { tokenHash },
    update: {},
    create: { name: "bootstrap", role: "admin", workspaceId: null, tokenHash, prefix: tokenPrefix(token) },
  });
  return { token, created, file: opts.envToken ? undefined : file };
}
