import type { IncomingMessage, ServerResponse } from "node:http";
import { createApiCore, createApiHttpHandler, ensureBootstrapAdmin, ensureSetupCode, type ApiCore } from "@agentboard/api";
import { describeDatabase, resolveDatabaseConfig } from "@agentboard/db";
import { claimDataDir } from "./data-dir.js";
import type { Env } from "./env.js";
import type { LocalRunner } from "./local-runner.js";
import { sessionTokenOf } from "./session.js";
import { createSessionRoutes } from "./session-routes.js";

export interface ApiServer {
  core: ApiCore;
  handles(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Called once the HTTP server listens: prints how to sign in, starts the local runner. */
  started(addr: { host: string; port: number }): Promise<void>;
  /** Stops the local runner; it reports its runs over HTTP, so this comes before the server closes. */
  stopRunner(): Promise<void>;
  /** The local runner, when one was started. */
  readonly localRunner: LocalRunner | null;
  close(): Promise<void>;
}

export async function startApiServer(env: Env): Promise<ApiServer> {
  const database = resolveDatabaseConfig({ databaseUrl: env.DATABASE_URL, dataDir: env.dataDir });
  const dataDir = claimDataDir(env.dataDir, database);
  const core = await createApiCore({
    database,
    dataDir: env.dataDir,
    repoRoots: env.repoRoots,
    leaseMs: env.AGENTBOARD_LEASE_MS,
    reaperEveryMs: env.AGENTBOARD_REAPER_MS,
    worktreeSweep: { everyMs: 10 * 60_000, olderThanMs: env.AGENTBOARD_WORKTREE_MAX_AGE_HOURS * 3_600_000 },
    mail:
      env.AGENTBOARD_SMTP_URL && env.AGENTBOARD_PUBLIC_URL
        ? { smtpUrl: env.AGENTBOARD_SMTP_URL, from: env.AGENTBOARD_SMTP_FROM, publicUrl: env.AGENTBOARD_PUBLIC_URL }
        : undefined,
    accounts: {
      secret: env.AGENTBOARD_AUTH_SECRET,
      baseURL: env.AGENTBOARD_PUBLIC_URL,
      oidc:
        env.AGENTBOARD_OIDC_ISSUER && env.AGENTBOARD_OIDC_CLIENT_ID && env.AGENTBOARD_OIDC_CLIENT_SECRET
          ? {
              issuer: env.AGENTBOARD_OIDC_ISSUER,
              clientId: env.AGENTBOARD_OIDC_CLIENT_ID,
              clientSecret: env.AGENTBOARD_OIDC_CLIENT_SECRET,
              name: env.AGENTBOARD_OIDC_NAME,
            }
          : undefined,
    },
  });
  const admin = await ensureBootstrapAdmin(core.deps, { envToken: env.AGENTBOARD_ADMIN_TOKEN, dataDir: env.dataDir });
  // Until a server administrator has an account, each start prints a one-time setup link.
  const setupCode = await ensureSetupCode(core.deps);

  // The browser authenticates with the httpOnly session cookie set by /login;
  // programs send a bearer token.
  const api = createApiHttpHandler(core, {
    tokenFromRequest: sessionTokenOf,
    onInternalError: (path, err) => console.error(`[agentboard] ${path ?? "?"}:`, err),
  });
  const session = createSessionRoutes(core);

  let localRunner: LocalRunner | null = null;
  const stopRunner = async () => {
    const runner = localRunner;
    localRunner = null;
    await runner?.stop();
  };

  return {
    core,
    handles(req) {
      return api.handles(req) || session.handles(req);
    },
    handle(req, res) {
      if (session.handles(req)) return session.handle(req, res);
      api.handle(req, res);
    },
    async started({ host, port }) {
      const base = `http://${host}:${port}`;
      const publicBase = env.AGENTBOARD_PUBLIC_URL?.replace(/\/+$/, "") ?? base;
      console.log(`[agentboard] listening on ${base} (${describeDatabase(database)})`);
      if (setupCode) {
        // The code rides in the fragment, which the browser never sends; it works once.
        console.log(`[agentboard] create the first admin account (one-time link): ${publicBase}/setup#code=${setupCode}`);
      }
      // The secret is printed once, when it was made; later starts do not repeat it in the log.
      if (admin.created) {
        if (admin.file) console.log(`[agentboard] created the admin token (kept in ${admin.file}, mode 0600):\n  ${admin.token}`);
        if (admin.revoked > 0) console.log(`[agentboard] the admin token changed: ${admin.revoked} earlier admin token(s) revoked`);
        // The token rides in the fragment, which the browser never sends: the login page reads it and posts it.
        console.log(`[agentboard] sign in: ${base}/login#token=${encodeURIComponent(admin.token)}`);
      } else {
        console.log(`[agentboard] sign in with the admin token (${admin.file ? `kept in ${admin.file}` : "AGENTBOARD_ADMIN_TOKEN"}): ${base}/login`);
      }
      if (env.AGENTBOARD_LOCAL_RUNNER === "1") {
        const { startLocalRunner } = await import("./local-runner.js");
        localRunner = await startLocalRunner({ server: base, core, dataDir: env.dataDir });
      }
    },
    stopRunner,
    get localRunner() {
      return localRunner;
    },
    async close() {
      await stopRunner();
      await core.close();
      dataDir.release();
    },
  };
}
