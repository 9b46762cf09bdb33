import { AsyncLocalStorage } from "node:async_hooks";
import type { PrismaPg } from "@prisma/adapter-pg";

// Prisma's driver adapter interfaces, as the pg adapter implements them.
type SqlDriverAdapterFactory = Pick<PrismaPg, "connect" | "provider" | "adapterName">;
type SqlDriverAdapter = Awaited<ReturnType<PrismaPg["connect"]>>;
type Transaction = Awaited<ReturnType<SqlDriverAdapter["startTransaction"]>>;
type SqlQuery = Parameters<SqlDriverAdapter["queryRaw"]>[0];

/**
 * Database failures that say nothing about the request: the connection was lost (a killed
 * backend, a restarted server, a dropped socket) or the transaction was chosen to abort
 * (serialization failure, deadlock). The statement that met one did not take effect, so it
 * may be repeated; callers up the stack decide whether everything else they did may be too.
 */
export function isTransientDatabaseError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 6; depth++) {
    if (typeof e !== "object") return false;
    const { code, kind, message, cause, meta } = e as {
      code?: unknown;
      kind?: unknown;
      message?: unknown;
      cause?: unknown;
      meta?: { driverAdapterError?: unknown };
    };
    // pg: SQLSTATE class 08 (connection exception), 57P01-03 (shut down / cannot connect now), 40001 / 40P01.
    if (typeof code === "string" && /^(08\w{3}|57P0[123]|40001|40P01)$/.test(code)) return true;
    if (typeof code === "string" && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT)$/.test(code)) return true;
    // Prisma's driver adapter errors: { kind: "postgres", code } or a connection kind.
    if (typeof kind === "string" && /^(ConnectionClosed|SocketTimeout|DatabaseNotReachable|TooManyConnections|TransactionWriteConflict)$/.test(kind))
      return true;
    if (
      typeof message === "string" &&
      /Connection terminated|connection ended|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message)
    )
      return true;
    e = meta?.driverAdapterError ?? cause;
  }
  return false;
}

/**
 * What one API call committed. A call that met a transient failure before it changed
 * anything can be run again from the start; one that had committed something cannot be,
 * so its caller is told to retry instead (docs/operations.md, "Retries").
 */
export interface WriteTracker {
  wrote: boolean;
}

const tracking = new AsyncLocalStorage<WriteTracker>();

/** Runs `fn` recording into `tracker` whether any statement it ran committed a change. */
export function trackWrites<T>(tracker: WriteTracker, fn: () => Promise<T>): Promise<T> {
  return tracking.run(tracker, fn);
}

export function noteWrite(): void {
  const tracker = tracking.getStore();
  if (tracker) tracker.wrote = true;
}

const ATTEMPTS = 4;

/**
 * One statement outside a transaction, repeated while it fails transiently (it did not
 * take effect; a new pooled connection is used each time). `write` marks a success as a
 * committed change.
 */
export async function withStatementRetry<T>(write: boolean, statement: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await statement();
      if (write) noteWrite();
      return result;
    } catch (err) {
      if (attempt >= ATTEMPTS || !isTransientDatabaseError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
    }
  }
}

const isRead = (query: SqlQuery) => /^\s*SELECT\b/i.test(query.sql);

/**
 * Prisma's driver adapter with the same rules: statements outside a transaction are
 * repeated on a transient failure; a committed transaction or a successful write marks the
 * call. A statement inside a transaction is not repeated (the transaction is gone with its
 * connection); the whole call is, by the API, when it had not committed anything.
 */
export function retryingAdapter(factory: SqlDriverAdapterFactory): SqlDriverAdapterFactory {
  return forwarding(factory, {
    connect: async () => {
      const adapter = await factory.connect();
      return forwarding<SqlDriverAdapter>(adapter, {
        queryRaw: (query: SqlQuery) => withStatementRetry(!isRead(query), () => adapter.queryRaw(query)),
        executeRaw: (query: SqlQuery) => withStatementRetry(true, () => adapter.executeRaw(query)),
        startTransaction: async (...args: Parameters<SqlDriverAdapter["startTransaction"]>) => {
          const tx = await withStatementRetry(false, () => adapter.startTransaction(...args));
          return forwarding<Transaction>(tx, {
            commit: async () => {
              // A commit whose answer was lost may have happened: count it as written.
              try {
                await tx.commit();
              } finally {
                noteWrite();
              }
            },
          });
        },
      });
    },
  });
}

/** `target` with some methods replaced; everything else is the target's own, bound to it. */
function forwarding<T extends object>(target: T, overrides: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(t, prop, _receiver) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof T];
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}
