import type { DodItem, Project, Run, RunEvent } from "../generated/postgresql/client.js";

/**
 * The few statements of the run queue that must be one atomic statement or must use the
 * database's clock, and the streaming hot path (append, read back). Everything else goes
 * through the typed Prisma client.
 * One implementation per dialect, side by side: postgresql.ts and sqlite.ts, each made for
 * one database connection.
 */
export interface QueueSql {
  /**
   * Claims the next eligible queued run (priority, then age) for each claimant, in one
   * statement, appends a `run.claimed` for each, and returns what each runner needs: the
   * run, its project and its automatic DoD checks. Result `i` is claimant `i`'s, null when
   * no eligible run was left for it; earlier claimants get the earlier runs.
   */
  claimNext(args: ClaimNextArgs): Promise<(Claimed | null)[]>;
  /** Claims one queued run by id the same way; null when it is not queued. */
  claimById(args: ClaimByIdArgs): Promise<Claimed | null>;
  /** Extends a held lease by `leaseMs` from database time; null when the lease is not held. */
  extendLease(args: ExtendLeaseArgs): Promise<LeaseState | null>;
  /** Claimed or running runs whose lease ran out by database time. */
  expiredLeases(limit: number): Promise<ExpiredLease[]>;
  /**
   * The streaming hot path: under a held lease, reserves sequence numbers on the run row
   * and appends the events, atomically (what `transition()` does, in one round trip).
   * Null when the lease is not held; nothing is written then.
   */
  appendEvents(args: AppendEventsArgs): Promise<AppendedEvents | null>;
  /** The other half of the streaming hot path: a run's events after `afterSeq`, in order. */
  eventsAfter(runId: string, afterSeq: number, limit: number): Promise<RunEvent[]>;
  /** Releases what the queue holds beyond the shared client (SQLite: its own connection). */
  close(): void;
}

/** What an append wrote: the run's last sequence number, its board, and the events as stored. */
export interface AppendedEvents {
  lastSeq: number;
  boardId: string;
  events: RunEvent[];
}

export interface AppendEventsArgs {
  runId: string;
  leaseToken: string;
  actor: string;
  events: { type: string; payload: unknown }[];
}

export type ClaimCheck = Pick<DodItem, "id" | "key" | "title" | "check" | "autoValidate" | "required">;

export interface Claimed {
  run: Run;
  project: Project;
  checks: ClaimCheck[];
}

export interface ClaimEvent {
  actor: string;
  payload: Record<string, unknown>;
}

export interface ClaimantLease {
  runnerId: string;
  leaseToken: string;
  event: ClaimEvent;
}

export interface ClaimNextArgs {
  workspaceId: string;
  boardId: string | null;
  /** The claimants' labels; a run is eligible when its labels are a subset of them. */
  labels: string[];
  leaseMs: number;
  claimants: ClaimantLease[];
}

export interface ClaimByIdArgs {
  runId: string;
  workspaceId: string;
  runnerId: string;
  leaseToken: string;
  leaseMs: number;
  event: ClaimEvent;
}

export interface ExtendLeaseArgs {
  runId: string;
  leaseToken: string;
  leaseMs: number;
}

export interface LeaseState {
  leaseExpiresAt: Date;
  cancelRequested: boolean;
}

export interface ExpiredLease {
  id: string;
  status: "claimed" | "running";
  leaseToken: string;
  cancelRequested: boolean;
}

/** Raised when a row is locked by a concurrent claim or start; the caller may retry. */
export class RowLockedError extends Error {
  override name = "RowLockedError";
}
