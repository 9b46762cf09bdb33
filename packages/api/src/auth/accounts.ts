import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { APIError, createAuthMiddleware } from "better-auth/api";
import { genericOAuth } from "better-auth/plugins/generic-oauth";
import type { Deps } from "../services/deps.js";
import type { Principal } from "./principal.js";

/**
 * People's accounts, with better-auth: email and password (scrypt hashes), sessions in the
 * database behind an httpOnly SameSite=Lax cookie (`agentboard.session_token`, signed),
 * rate-limited sign-in counted in the database (so every replica shares the count), and
 * OpenID Connect single sign-on when an issuer is configured. Nothing here is our own
 * crypto. Memberships, invitations and API tokens are agentboard's own (services/members.ts,
 * services/tokens.ts): they hang off workspaces, which better-auth knows nothing of.
 *
 * Signing up is not open: an account is created only through the setup link or an
 * invitation (auth/account-routes.ts), which call better-auth's sign-up from the server.
 */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Shown on the sign-in button. */
  name?: string;
}

export interface AccountsOptions {
  /** Signs session cookies; generated once and kept in the data directory when not given. */
  secret?: string;
  /** The board's public address (cookies are Secure when it is https); inferred from each request when absent. */
  baseURL?: string;
  oidc?: OidcConfig;
  /** Sign-in attempts per client per minute (default 10). */
  signInPerMinute?: number;
}

/** The header the server sets from the socket's address (any client value is replaced): what the rate limit counts by. */
export const CLIENT_IP_HEADER = "x-agentboard-client-ip";

export const OIDC_PROVIDER_ID = "oidc";

export function createAccounts(deps: Deps, opts: AccountsOptions) {
  const secret = opts.secret ?? readOrCreateSecret(deps.config.dataDir);
  const perMinute = opts.signInPerMinute ?? 10;
  const auth = betterAuth({
    appName: "agentboard",
    basePath: "/api/auth",
    baseURL: opts.baseURL,
    secret,
    database: prismaAdapter(deps.db.prisma, { provider: deps.db.provider }),
    emailAndPassword: { enabled: true, minPasswordLength: 10, maxPasswordLength: 256, autoSignIn: true },
    session: { expiresIn: 30 * 24 * 3600, updateAge: 24 * 3600, cookieCache: { enabled: false } },
    user: { additionalFields: { serverAdmin: { type: "boolean", required: false, defaultValue: false, input: false } } },
    rateLimit: {
      enabled: true,
      storage: "database",
      window: 60,
      max: 300,
      customRules: {
        "/sign-in/email": { window: 60, max: perMinute },
        "/sign-in/social": { window: 60, max: perMinute },
        "/sign-in/oauth2": { window: 60, max: perMinute },
      },
    },
    advanced: {
      cookiePrefix: "agentboard",
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
      database: { generateId: () => randomBytes(16).toString("hex") },
    },
    telemetry: { enabled: false },
    logger: { level: "error" },
    plugins: opts.oidc
      ? [
          genericOAuth({
            config: [
              {
                providerId: OIDC_PROVIDER_ID,
                name: opts.oidc.name ?? "Single sign-on",
                discoveryUrl: `${opts.oidc.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`,
                clientId: opts.oidc.clientId,
                clientSecret: opts.oidc.clientSecret,
                scopes: ["openid", "email", "profile"],
                pkce: true,
              },
            ],
          }),
        ]
      : [],
    hooks: {
      // Accounts are made by invitation or the setup link only: those call sign-up from the
      // server (no request), a browser's own sign-up request is refused.
      before: createAuthMiddleware(async (ctx) => {
        if (ctx.path === "/sign-up/email" && ctx.request) {
          throw new APIError("FORBIDDEN", { message: "accounts are created from an invitation link (or the setup link)" });
        }
      }),
    },
  });

  return {
    auth,
    oidc: opts.oidc ? { providerId: OIDC_PROVIDER_ID, name: opts.oidc.name ?? "Single sign-on" } : null,
    /** The principal of a request's session cookie, or null (no cookie, expired, signed out). */
    async principalOf(headers: Headers): Promise<Principal | null> {
      const found = await auth.api.getSession({ headers, query: { disableRefresh: false } });
      if (!found) return null;
      return sessionPrincipal(deps, found.user.id, found.user.email);
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;

/** A person's principal: their memberships are read on each request, so a changed role counts at once. */
export async function sessionPrincipal(deps: Deps, userId: string, email: string): Promise<Principal | null> {
  const user = await deps.db.prisma.user.findUnique({
    where: { id: userId },
    select: { serverAdmin: true, memberships: { select: { workspaceId: true, role: true } } },
  });
  if (!user) return null;
  return {
    kind: "session",
    tokenId: null,
    userId,
    name: email,
    role: "admin",
    workspaceId: null,
    serverAdmin: user.serverAdmin,
    memberships: new Map(user.memberships.map((m) => [m.workspaceId, m.role])),
  };
}

function readOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, "auth-secret");
  if (existsSync(file)) {
    const kept = readFileSync(file, "utf8").trim();
    if (kept.length >= 32) return kept;
  }
  const secret = randomBytes(32).toString("base64url");
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
