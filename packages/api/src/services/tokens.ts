import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Role } from "@agentboard/db";
import type { Deps } from "./deps.js";
import type { Principal } from "../auth/principal.js";
import { generateToken, hashToken, tokenPrefix } from "../auth/tokens.js";
import { topics } from "../infra/notifier.js";

export async function createToken(deps: Deps, input: { workspaceId: string; role: Role; name: string }) {
  const token = generateToken();
  const row = await deps.db.prisma.apiToken.create({
    data: { workspaceId: input.workspaceId, role: input.role, name: input.name, tokenHash: hashToken(token), prefix: tokenPrefix(token) },
  });
  return { id: row.id, name: row.name, role: row.role, workspaceId: row.workspaceId, prefix: row.prefix, createdAt: row.createdAt, token };
}

export async function createPersonalToken(deps: Deps, userId: string, input: { name: string; role: Role; workspaceId?: string }) {
  const token = generateToken();
  const row = await deps.db.prisma.apiToken.create({
    data: { userId, workspaceId: input.workspaceId ?? null, role: input.role, name: input.name, tokenHash: hashToken(token), prefix: tokenPrefix(token) },
  });
  return { id: row.id, name: row.name, role: row.role, workspaceId: row.workspaceId, prefix: row.prefix, createdAt: row.createdAt, token };
}

export async function listPersonalTokens(deps: Deps, userId: string) {
  return deps.db.prisma.apiToken.findMany({
    where: { userId },
    select: { id: true, name: true, role: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true, workspaceId: true },
    orderBy: { createdAt: "asc" },
  });
}

/** A workspace's tokens, or with `null` the server's own (the bootstrap admin tokens); personal tokens are their owners'. */
export async function listTokens(deps: Deps, workspaceId: string | null) {
  return deps.db.prisma.apiToken.findMany({
    where: { workspaceId, userId: null },
    select: { id: true, name: true, role: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true, workspaceId: true },
    orderBy: { createdAt: "asc" },
  });
}

export async function revokeToken(deps: Deps, tokenId: string, cache: TokenCache) {
  const row = await deps.db.prisma.apiToken.update({ where: { id: tokenId }, data: { revokedAt: new Date() }, omit: { tokenHash: false } });
  cache.forget(row.tokenHash);
  await deps.notifier.publish(topics.tokens);
  return { id: row.id, revokedAt: row.revokedAt };
}

/**
 * Resolves bearer tokens. Runner tokens are cached briefly: the hot paths (claim,
 * heartbeat) must not pay a lookup each call. Every other token is read each time, with
 * its user's memberships, so that a changed role or a removed member counts at once.
 * Revoking any token publishes `topics.tokens`, which clears this cache in every replica
 * (PostgreSQL NOTIFY): a revoked token stops working everywhere at once.
 */
export class TokenCache {
  private readonly entries = new Map<string, { principal: Principal | null; until: number }>();
  constructor(private readonly ttlMs = 5_000) {}

  async resolve(deps: Deps, token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const hit = this.entries.get(hash);
    const now = Date.now();
    if (hit && hit.until > now) return hit.principal;
    const row = await deps.db.prisma.apiToken.findUnique({
      where: { tokenHash: hash },
      include: { user: { select: { email: true, serverAdmin: true, memberships: { select: { workspaceId: true, role: true } } } } },
    });
    if (!row || row.revokedAt) return null;
    const principal: Principal = row.user
      ? {
          kind: "token",
          tokenId: row.id,
          userId: row.userId,
          name: row.user.email,
          role: row.role,
          workspaceId: row.workspaceId,
          serverAdmin: row.user.serverAdmin,
          memberships: new Map(row.user.memberships.map((m) => [m.workspaceId, m.role])),
        }
      : { kind: "token", tokenId: row.id, userId: null, name: row.name, role: row.role, workspaceId: row.workspaceId, serverAdmin: false, memberships: null };
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > 60_000) {
      await deps.db.prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } });
    }
    if (row.role === "runner") {
      if (this.entries.size > 10_000) this.entries.clear();
      this.entries.set(hash, { principal, until: now + this.ttlMs });
    }
    return principal;
  }

  forget(hash: string): void {
    this.entries.delete(hash);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The name the server's own admin tokens are listed under. */
export const BOOTSTRAP_TOKEN_NAME = "bootstrap";

export interface BootstrapAdmin {
  token: string;
  /** True when this start made the token (first start, or a rotation): then the caller prints it. */
  created: boolean;
  /** Where a token the server generated is kept (absent when it came from the environment). */
  file?: string;
  /** Earlier bootstrap tokens this start revoked. */
  revoked: number;
}

/**
 * Makes sure an admin can get in. `AGENTBOARD_ADMIN_TOKEN` is accepted as given; otherwise a
 * token is created once and kept (mode 0600) in the data directory. The token is a row like
 * any other: `token.list` shows it and `token.revoke` ends it. A token that is new to the
 * database (first start, or the variable changed) replaces the earlier bootstrap tokens,
 * which are revoked. A revoked token from the file is replaced by a new one; a revoked token
 * from the environment stops the server (it would start with no way in).
 */
export async function ensureBootstrapAdmin(deps: Deps, opts: { envToken?: string; dataDir: string }): Promise<BootstrapAdmin> {
  const prisma = deps.db.prisma;
  const file = join(opts.dataDir, "admin-token");
  const fromEnv = opts.envToken?.trim();
  let token = fromEnv || (existsSync(file) ? readFileSync(file, "utf8").trim() : "");
  let row = token ? await prisma.apiToken.findUnique({ where: { tokenHash: hashToken(token) } }) : null;
  if (row?.revokedAt) {
    if (fromEnv) throw new Error("AGENTBOARD_ADMIN_TOKEN was revoked: set a new one (at least 16 characters)");
    token = "";
    row = null;
  }
  if (!token) {
    token = generateToken();
    mkdirSync(opts.dataDir, { recursive: true });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  const where = { workspaceId: null, role: "admin" as const, name: BOOTSTRAP_TOKEN_NAME, revokedAt: null };
  if (row) return { token, created: false, file: fromEnv ? undefined : file, revoked: 0 };
  const created = await prisma.apiToken.create({
    data: { name: BOOTSTRAP_TOKEN_NAME, role: "admin", workspaceId: null, tokenHash: hashToken(token), prefix: tokenPrefix(token) },
  });
  const { count } = await prisma.apiToken.updateMany({ where: { ...where, id: { not: created.id } }, data: { revokedAt: new Date() } });
  return { token, created: true, file: fromEnv ? undefined : file, revoked: count };
}
