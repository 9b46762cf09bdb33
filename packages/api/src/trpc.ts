import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError, z } from "zod";
import { isTransientDatabaseError, trackWrites } from "@agentboard/db";
import type { Principal, Need } from "./auth/principal.js";
import { allows, isServerAdmin, roleIn } from "./auth/principal.js";
import { appErrorOf, forbidden, notFound, shuttingDown, toTRPCError } from "./errors.js";
import { inputTransformer } from "./http-input.js";
import { storableInput } from "./input/storable.js";
import type { Deps } from "./services/deps.js";
import type { TokenCache } from "./services/tokens.js";
import type { RunnerIdentity } from "./services/runners.js";

export interface Context {
  deps: Deps;
  principal: Principal | null;
  tokens: TokenCache;
  runners: RunnerIdentity;
  /** Which workspace a run belongs to never changes: remembered for the runner hot paths. */
  runWorkspaces: Map<string, string>;
  /** Server log for errors that the client only sees as INTERNAL_SERVER_ERROR. */
  log: (msg: string, err?: unknown) => void;
}

const t = initTRPC.context<Context>().create({
  // Inputs are superjson too, but checked before superjson walks them (http-input.ts).
  transformer: { input: inputTransformer, output: superjson },
  sse: {
    ping: { enabled: true, intervalMs: 10_000 },
    client: { reconnectAfterInactivityMs: 25_000 },
  },
  errorFormatter({ shape, error }) {
    const app = appErrorOf(error);
    const zod = error.cause instanceof ZodError ? error.cause : null;
    return {
      ...shape,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        reason: app?.reason ?? (zod ? "BAD_REQUEST" : shape.data.code),
        details: app?.details ?? null,
        fieldErrors: zod ? z.flattenError(zod).fieldErrors : null,
        issues: zod ? zod.issues.map((i) => ({ path: i.path.join("."), message: i.message })) : null,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** How often a call that met a lost database connection before it changed anything is run again. */
const CALL_ATTEMPTS = 3;

/**
 * The one place domain errors become tRPC errors; unknown errors are logged and hidden.
 * A subscription's errors are thrown while it is iterated, after this middleware has
 * returned: its iterable is wrapped so that they are mapped the same way (a NOT_FOUND must
 * reach the client as NOT_FOUND, not as a retryable INTERNAL_SERVER_ERROR).
 *
 * A call that met a transient database failure (a killed connection) before it committed
 * anything is run again from the start, as if it had just arrived; one that had committed
 * something answers SERVICE_UNAVAILABLE with reason RETRYABLE, as does one that kept
 * failing. Single statements are already repeated below (@agentboard/db's transient.ts).
 */
const mapErrors = t.middleware(async ({ ctx, next, path }) => {
  const mapped = (thrown: unknown) => {
    // tRPC wraps anything thrown below in an INTERNAL_SERVER_ERROR whose cause is the original.
    const original = thrown instanceof TRPCError && thrown.code === "INTERNAL_SERVER_ERROR" && thrown.cause ? thrown.cause : thrown;
    const error = toTRPCError(original);
    if (error.code === "INTERNAL_SERVER_ERROR") ctx.log(`${path} failed`, error.cause);
    return error;
  };
  let { result, wrote } = await tracked(next);
  for (let attempt = 2; !result.ok && !wrote && attempt <= CALL_ATTEMPTS && isTransientDatabaseError(result.error); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    ({ result, wrote } = await tracked(next));
  }
  if (!result.ok) return { ...result, error: mapped(result.error) };
  if (!isAsyncIterable(result.data)) return result;
  const source = result.data;
  return {
    ...result,
    data: (async function* () {
      try {
        return yield* source;
      } catch (err) {
        throw mapped(err);
      }
    })(),
  };
});

async function tracked<R>(call: () => Promise<R>): Promise<{ result: R; wrote: boolean }> {
  const writes = { wrote: false };
  const result = await trackWrites(writes, call);
  return { result, wrote: writes.wrote };
}

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/** Every input's text is made storable before any schema sees it (input/storable.ts). */
const storableInputs = t.middleware(({ next, getRawInput }) => next({ getRawInput: async () => storableInput(await getRawInput()) }));

/**
 * Every call is counted while it runs: closing the API waits for the calls in progress
 * (infra/calls.ts), and refuses new ones as retryable rather than start them on a closing
 * database.
 */
const counted = t.middleware(async ({ ctx, next }) => {
  if (ctx.deps.stopping.aborted) throw shuttingDown();
  const end = ctx.deps.calls.begin();
  try {
    return await next();
  } finally {
    end();
  }
});

export const publicProcedure = t.procedure.use(mapErrors).use(counted).use(storableInputs);

/** Every procedure but health: a valid bearer token is required. */
export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.principal) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in, or send a valid bearer token" });
  const principal = ctx.principal;
  return next({ ctx: { ...ctx, principal, authorize: makeAuthorizer(ctx.deps, principal, ctx.runWorkspaces) } });
});

/**
 * Permission checks used by routers: each resolves the workspace an object belongs to and
 * checks the principal's role there. Objects in other workspaces answer NOT_FOUND, so a
 * token learns nothing about workspaces it cannot see.
 */
function makeAuthorizer(deps: Deps, p: Principal, runWorkspaces: Map<string, string>) {
  const check = (workspaceId: string, need: Need, what: string, id: string) => {
    const role = roleIn(p, workspaceId);
    if (role === null) throw notFound(what, id);
    if (!allows(p, workspaceId, need))
      throw forbidden(p.kind === "session" ? `your role here (${role}) cannot do that` : `this token (${role}) cannot do that`);
    return workspaceId;
  };
  const prisma = deps.db.prisma;
  return {
    globalAdmin() {
      if (!isServerAdmin(p)) throw forbidden("only the server's admin (its admin token, or a server administrator) can do that");
    },
    workspace: async (id: string, need: Need) => {
      if (roleIn(p, id) === null) throw notFound("workspace", id);
      // A workspace token's workspace exists (deleting it deletes its tokens), as does a
      // membership's: no lookup on the hot paths (claim). Only principals that span every
      // workspace need the existence check.
      if (p.workspaceId === id || (p.memberships?.has(id) ?? false)) return check(id, need, "workspace", id);
      const ws = await prisma.workspace.findUnique({ where: { id }, select: { id: true } });
      if (!ws) throw notFound("workspace", id);
      return check(id, need, "workspace", id);
    },
    board: async (id: string, need: Need) => {
      const row = await prisma.board.findUnique({ where: { id }, select: { workspaceId: true } });
      if (!row) throw notFound("board", id);
      return check(row.workspaceId, need, "board", id);
    },
    project: async (id: string, need: Need) => {
      const row = await prisma.project.findUnique({ where: { id }, select: { workspaceId: true } });
      if (!row) throw notFound("project", id);
      return check(row.workspaceId, need, "project", id);
    },
    card: async (id: string, need: Need) => {
      const row = await prisma.card.findUnique({ where: { id }, select: { board: { select: { workspaceId: true } } } });
      if (!row) throw notFound("card", id);
      return check(row.board.workspaceId, need, "card", id);
    },
    workflow: async (id: string, need: Need) => {
      const row = await prisma.workflow.findUnique({ where: { id }, select: { workspaceId: true } });
      if (!row) throw notFound("workflow", id);
      return check(row.workspaceId, need, "workflow", id);
    },
    run: async (id: string, need: Need) => {
      let workspaceId = runWorkspaces.get(id);
      if (!workspaceId) {
        const row = await prisma.run.findUnique({ where: { id }, select: { workspaceId: true } });
        if (!row) throw notFound("run", id);
        workspaceId = row.workspaceId;
        if (runWorkspaces.size >= 100_000) runWorkspaces.clear();
        runWorkspaces.set(id, workspaceId);
      }
      return check(workspaceId, need, "run", id);
    },
    agentProfile: async (id: string, need: Need) => {
      const row = await prisma.agentProfile.findUnique({ where: { id }, select: { workspaceId: true } });
      if (!row) throw notFound("agent profile", id);
      return check(row.workspaceId, need, "agent profile", id);
    },
    token: async (id: string, need: Need) => {
      const row = await prisma.apiToken.findUnique({ where: { id }, select: { workspaceId: true, userId: true } });
      if (!row) throw notFound("token", id);
      // A personal token is its owner's to manage, and no one else's.
      if (row.userId !== null) {
        if (row.userId !== p.userId) throw notFound("token", id);
        return row.workspaceId;
      }
      // The server's own tokens are the server's admin's to manage.
      if (row.workspaceId === null) {
        if (!isServerAdmin(p)) throw notFound("token", id);
        return null;
      }
      return check(row.workspaceId, need, "token", id);
    },
    /** Viewers and up may read a run; a runner may read the runs it holds. */
    runRead: async (id: string) => {
      const row = await prisma.run.findUnique({ where: { id }, select: { workspaceId: true, runner: { select: { tokenId: true } } } });
      if (!row) throw notFound("run", id);
      if (p.role === "runner") {
        // A runner token without a workspace (the local runner's) spans every workspace.
        if (roleIn(p, row.workspaceId) === null || row.runner?.tokenId !== p.tokenId) throw notFound("run", id);
        return row.workspaceId;
      }
      return check(row.workspaceId, "viewer", "run", id);
    },
  };
}
