import { TRPCError } from "@trpc/server";
import { isTransientDatabaseError, Prisma } from "@agentboard/db";

/** Machine-readable reasons carried in `error.data.reason`. */
export type ErrorReason =
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "UNAUTHORIZED"
  | "BAD_REQUEST"
  | "ALREADY_EXISTS"
  | "ALREADY_CLAIMED"
  | "NOT_CLAIMABLE"
  | "RUN_LOCKED"
  | "LEASE_LOST"
  | "NOT_CANCELLABLE"
  | "INVALID_STATE"
  | "DOD_INCOMPLETE"
  | "MERGE_CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "BUDGET_EXCEEDED"
  | "REVERIFY_FAILED"
  /** A merge's re-verification is waiting for a runner or running (`run.merge` answered `verifying`). */
  | "VERIFYING"
  | "NOT_ABORTABLE"
  | "RUN_ACTIVE"
  | "BRANCH_MISSING"
  | "BASE_MOVED"
  | "MERGE_BUSY"
  | "REPOSITORY_UNAVAILABLE"
  | "WORKTREE_NOT_OURS"
  | "APPROVAL_UNKNOWN"
  | "APPROVAL_ANSWERED"
  | "APPROVAL_EXPIRED"
  | "RUN_NOT_RUNNING"
  | "SANDBOX_REQUIRED"
  /** A follow-up or retry named a run that is not the latest of its thread. */
  | "NOT_THREAD_HEAD"
  /** A message was sent to a run that is not running: follow up instead. */
  | "RUN_ENDED"
  /** A workspace keeps at least one admin. */
  | "LAST_ADMIN"
  /** An invitation link that is unknown, expired, revoked or used. */
  | "INVITATION_INVALID"
  /** A save named an older version than the stored one: someone else changed it meanwhile. */
  | "STALE_VERSION"
  /** The workflow asks for four eyes, and this person may not decide alone. */
  | "INDEPENDENT_REVIEW"
  /** Deleting would lose history: archive it instead (or purge, as a server admin). */
  | "HAS_RUNS"
  /** The thing is archived: restore it first. */
  | "ARCHIVED"
  /** The server could not finish the call for a passing reason (the database connection was lost): call again. */
  | "RETRYABLE";

type Code = "NOT_FOUND" | "CONFLICT" | "BAD_REQUEST" | "FORBIDDEN" | "UNAUTHORIZED" | "PAYLOAD_TOO_LARGE" | "SERVICE_UNAVAILABLE";

/** A domain error: services throw these; `toTRPCError` is the one place that maps them. */
export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: Code,
    readonly reason: ErrorReason,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: string) => new AppError("NOT_FOUND", "NOT_FOUND", `${what} ${id} not found`, { id });
export const conflict = (reason: ErrorReason, message: string, details?: Record<string, unknown>) => new AppError("CONFLICT", reason, message, details);
export const forbidden = (message = "not allowed") => new AppError("FORBIDDEN", "FORBIDDEN", message);
/** A call that arrives while the API is closing: nothing was done, and a retry elsewhere (or later) is safe. */
export const shuttingDown = () =>
  new AppError("SERVICE_UNAVAILABLE", "RETRYABLE", "the server is shutting down: nothing was done, call again", { retryable: true });
export const badRequest = (message: string, field?: string) => new AppError("BAD_REQUEST", "BAD_REQUEST", message, field ? { field } : undefined);

/**
 * Maps any error thrown below a procedure to what the client may see. Unknown errors become
 * a generic INTERNAL_SERVER_ERROR; the original stays as `cause` for the server log only.
 */
export function toTRPCError(err: unknown): TRPCError {
  if (err instanceof TRPCError) return err;
  if (err instanceof AppError) {
    return new TRPCError({ code: err.code, message: err.message, cause: err });
  }
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (err.code === "P2025")
      return new TRPCError({ code: "NOT_FOUND", message: "record not found", cause: new AppError("NOT_FOUND", "NOT_FOUND", "record not found") });
    if (err.code === "P2002")
      return new TRPCError({ code: "CONFLICT", message: "already exists", cause: new AppError("CONFLICT", "ALREADY_EXISTS", "already exists") });
    if (err.code === "P2003")
      return new TRPCError({
        code: "BAD_REQUEST",
        message: "a referenced record does not exist",
        cause: new AppError("BAD_REQUEST", "NOT_FOUND", "a referenced record does not exist"),
      });
  }
  if (isTransientDatabaseError(err)) {
    const message = "the database connection was lost before the call could finish; call again";
    return new TRPCError({ code: "SERVICE_UNAVAILABLE", message, cause: new AppError("SERVICE_UNAVAILABLE", "RETRYABLE", message, { retryable: true }) });
  }
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "internal error", cause: err });
}

/** The AppError behind a TRPCError, if any (for the error formatter). */
export function appErrorOf(err: TRPCError): AppError | undefined {
  return err.cause instanceof AppError ? err.cause : undefined;
}

export function isRecordNotFound(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2025";
}

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002";
}
