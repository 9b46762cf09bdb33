import type { IncomingMessage, ServerResponse } from "node:http";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { appRouter, checkHealth, createApiCore, ensureBootstrapAdmin, type ApiCore } from "@agentboard/api";
import { describeDatabase, resolveDatabaseConfig } from "@agentboard/db";
import type { Env } from "./env.js";
import { SESSION_COOKIE, readCookie } from "./session.js";

export interface ApiServer {
  core: ApiCore;
  handles(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Called once the HTTP server listens: prints how to sign in, starts the local runner. */
  started(addr: { host: string; port: number }): Promise<void>;
  close(): Promise<void>;
}

export async function startApiServer(env: Env): Promise<ApiServer> {
  const database = resolveDatabaseConfig({ databaseUrl: env.DATABASE_URL, dataDir: env.dataDir });
  const core = await createApiCore({
    database,
    dataDir: env.dataDir,
    leaseMs: env.AGENTBOARD_LEASE_MS,
    reaperEveryMs: env.AGENTBOARD_REAPER_MS,
  });
  const admin = await ensureBootstrapAdmin(core.deps, { envToken: env.AGENTBOARD_ADMIN_TOKEN, dataDir: env.dataDir });

  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/api/trpc/",
    // The browser authenticates with the httpOnly session cookie set by /login;
    // programs send a bearer token.
    createContext: ({ req }) => {
      const header = req.headers.authorization;
      const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
      return core.createContext({ authorization: header ?? (cookie ? `Bearer ${cookie}` : null) });
    },
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") console.error(`[agentboard] ${path ?? "?"}:`, error.cause ?? error);
    },
  });

  let stopLocalRunner: (() => Promise<void>) | null = null;

  return {
    core,
    handles(req) {
      const path = req.url ?? "";
      return path.startsWith("/api/trpc/") || path === "/api/health" || path.startsWith("/api/health?");
    },
    handle(req, res) {
      if ((req.url ?? "").startsWith("/api/health")) {
        checkHealth(core.deps)
          .then((body) => {
            res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
            res.end(JSON.stringify(body));
          })
          .catch(() => {
            res.writeHead(503, { "content-type": "application/json" });
            res.end(JSON.stringify({ status: "error", db: core.deps.db.provider }));
          });
        return;
      }
      void trpc(req, res);
    },
    async started({ host, port }) {
      const base = `http://${host}:${port}`;
      console.log(`[agentboard] listening on ${base} (${describeDatabase(database)})`);
      if (admin.created) console.log(`[agentboard] created the admin token (kept in ${admin.file}, mode 0600):\n  ${admin.token}`);
      console.log(`[agentboard] sign in: ${base}/login?token=${encodeURIComponent(admin.token)}`);
      if (env.AGENTBOARD_LOCAL_RUNNER === "1") {
        const { startLocalRunner } = await import("./local-runner.js");
        stopLocalRunner = await startLocalRunner({ server: base, adminToken: admin.token, core, dataDir: env.dataDir });
      }
    },
    async close() {
      await stopLocalRunner?.();
      await core.close();
    },
  };
}
