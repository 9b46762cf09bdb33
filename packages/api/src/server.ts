import { openDatabase, type Database, type DatabaseConfig } from "@agentboard/db";
import { createLocalNotifier, createPostgresNotifier, type Notifier } from "./infra/notifier.js";
import { defaultServiceConfig, type Deps, type ServiceConfig } from "./services/deps.js";
import { reapExpiredLeases } from "./services/reaper.js";
import { sweepStaleWorktrees } from "./services/worktrees.js";
import { finishPendingCleanups } from "./services/worktree-cleanup.js";
import { runEvery } from "./infra/periodic.js";
import { TokenCache } from "./services/tokens.js";
import { RunnerIdentity } from "./services/runners.js";
import { resolveRepoRoots } from "./services/repo-roots.js";
import { createCallerFactory, type Context } from "./trpc.js";
import { appRouter } from "./root.js";
import type { Principal } from "./auth/principal.js";
import { createAccounts, type Accounts, type AccountsOptions } from "./auth/accounts.js";
import { topics } from "./infra/notifier.js";
import { createCallTracker } from "./infra/calls.js";
import { createMailer, type MailOptions } from "./infra/mailer.js";

/**
 * Everything one API process holds: the database, the notifier, the reaper and the
 * caches. The web server and the tests build it the same way.
 */
const createCaller = createCallerFactory(appRouter);
/** How long closing waits for calls in progress before it closes the database anyway. */
const CLOSE_WAIT_MS = 5_000;
export type Caller = ReturnType<typeof createCaller>;

export interface ApiCore {
  deps: Deps;
  /**
   * The context of one request: a bearer token wins; otherwise the session cookie (which
   * the HTTP layer passes only where a cookie may act: reads, and changes from the board's
   * own pages).
   */
  createContext(opts: { authorization?: string | null; cookie?: string | null }): Promise<Context>;
  accounts: Accounts;
  /** A server-side caller acting as the given principal (tests, scripts). */
  callerFor(principal: Principal | null): Caller;
  close(): Promise<void>;
}

export interface ApiCoreOptions {
  database: DatabaseConfig;
  dataDir: string;
  leaseMs?: number;
  maxClaimWaitMs?: number;
  /** Reaper period; 0 disables the reaper (tests call it directly). */
  reaperEveryMs?: number;
  /**
   * Removes worktrees of finished runs older than `olderThanMs`, and finishes the cleanups
   * merges and aborts left (every `pendingEveryMs`, default 15 s); off unless given.
   */
  worktreeSweep?: { everyMs: number; olderThanMs: number; pendingEveryMs?: number };
  poolSize?: number;
  /** Directories projects' repositories may be in, besides `<dataDir>/repos`. */
  repoRoots?: string[];
  log?: (msg: string, err?: unknown) => void;
  /** People's accounts: cookie secret, public address, OIDC (auth/accounts.ts). */
  accounts?: AccountsOptions;
  /** SMTP for invitation e-mails; without it invitations are links to copy. */
  mail?: MailOptions;
}

export async function createApiCore(opts: ApiCoreOptions): Promise<ApiCore> {
  const db: Database = await openDatabase(opts.database, { poolSize: opts.poolSize });
  const notifier: Notifier =
    db.provider === "postgresql" && db.pool && opts.database.provider === "postgresql"
      ? await createPostgresNotifier(opts.database.url, db.pool)
      : createLocalNotifier();
  const config: ServiceConfig = {
    leaseMs: opts.leaseMs ?? defaultServiceConfig.leaseMs,
    maxClaimWaitMs: opts.maxClaimWaitMs ?? defaultServiceConfig.maxClaimWaitMs,
    dataDir: opts.dataDir,
    repoRoots: resolveRepoRoots(opts.dataDir, opts.repoRoots),
  };
  const stopping = new AbortController();
  const deps: Deps = { db, notifier, config, stopping: stopping.signal, calls: createCallTracker(), ...(opts.mail ? { mailer: createMailer(opts.mail) } : {}) };
  const tokens = new TokenCache();
  const accounts = createAccounts(deps, opts.accounts ?? {});
  const stopListening = notifier.subscribe(topics.tokens, () => tokens.clear());
  const runners = new RunnerIdentity();
  const runWorkspaces = new Map<string, string>();
  const log = opts.log ?? ((msg: string, err?: unknown) => console.error(`[agentboard] ${msg}`, err ?? ""));
  const sweep = opts.worktreeSweep;
  const background = [
    opts.reaperEveryMs === 0
      ? null
      : runEvery(
          opts.reaperEveryMs ?? 2_000,
          () => reapExpiredLeases(deps),
          (err) => log("reaper failed", err),
        ),
    sweep
      ? runEvery(
          sweep.everyMs,
          () => sweepStaleWorktrees(deps, { olderThanMs: sweep.olderThanMs }),
          (err) => log("worktree sweep failed", err),
        )
      : null,
    sweep
      ? runEvery(
          sweep.pendingEveryMs ?? 15_000,
          () => finishPendingCleanups(deps),
          (err) => log("finishing cleanups failed", err),
        )
      : null,
  ];

  return {
    deps,
    accounts,
    async createContext({ authorization, cookie }) {
      const match = authorization?.match(/^Bearer\s+(\S+)$/i);
      let principal = match?.[1] ? await tokens.resolve(deps, match[1]) : null;
      if (!principal && !authorization && cookie) principal = await accounts.principalOf(new Headers({ cookie }));
      return { deps, principal, tokens, runners, runWorkspaces, log };
    },
    callerFor(principal) {
      return createCaller({ deps, principal, tokens, runners, runWorkspaces, log });
    },
    async close() {
      stopping.abort();
      stopListening();
      for (const task of background) task?.stop();
      // Calls woken by `stopping` (long-polls, streams) end at once; a mutation gets a moment.
      await deps.calls.settled(CLOSE_WAIT_MS);
      await notifier.close();
      await db.close();
    },
  };
}
