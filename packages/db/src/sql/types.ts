import type { DodItem, Project, Run, RunEvent } from "../generated/postgresql/client.js";
import type { RunStatus } from "../generated/postgresql/enums.js";

/**
 * The few statements of the run queue that must be one atomic statement or must use the
 * database's clock, and the streaming hot path (append, read back). Everything else goes
 * through the typed Prisma client.
 * One implementation per dialect, side by side: postgresql.ts and sqlite.ts, each made for
 * one database connection.
 */
export interface DialectSql {
  /**
   * Claims a run for each claimant, in one statement: its own follow-up first (a queued run
   * whose `preferredRunnerId` is the claimant's runner, which holds the parent's checkout),
   * else the next eligible queued run (priority, then age; another runner's follow-up only
   * after PREFERRED_GRACE_S). Appends a `run.claimed` for each and returns what each runner
   * needs: the run, its project and its automatic DoD checks. Result `i` is claimant `i`'s,
   * null when no eligible run was left for it; earlier claimants get the earlier runs.
   */
  claimNext(args: ClaimNextArgs): Promise<(Claimed | null)[]>;
  /** Claims one queued run by id the same way; null when it is not queued. */
  claimById(args: ClaimByIdArgs): Promise<Claimed | null>;
  /**
   * Which of these workspaces have a queued run: one indexed probe each, in one round trip,
   * so that a claim over many scopes tries only the scopes that can have work.
   */
  queuedWorkspaces(workspaceIds: readonly string[]): Promise<Set<string>>;
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
  /**
   * The other half of the streaming hot path: a run's events after `afterSeq`, in order, at
   * most `limit`, and ending before their payloads pass `maxBytes` (the first always comes):
   * what a follower holds while it waits on a slow client is one bounded page. `more` says
   * that events were left out by either bound.
   */
  eventsAfter(runId: string, afterSeq: number, limit: number, maxBytes: number): Promise<RunEventsPage>;
  /**
   * A board cursor for "now": reading from it returns only events committed later. Board
   * cursors are opaque strings; each event read carries the cursor that resumes right after
   * it. Global event ids may commit out of order (PostgreSQL), so a cursor is not an id
   * there but a pair of transaction snapshots: what was delivered is exactly what they saw.
   */
  boardCursor(): Promise<string>;
  /**
   * Events of the board's runs committed after `cursor`, oldest first, at most `limit`,
   * each with its run's card and current status and its own resume cursor; `cursor` in the
   * result continues after the last one. "0" reads from the start. A cursor that this
   * database did not make throws InvalidCursorError.
   */
  boardEventsAfter(boardId: string, cursor: string, limit: number): Promise<BoardEventsPage>;
  /**
   * Where a follower of the board without a cursor starts, instead of the board's whole
   * history: each card's latest run with its status now, and the board's last `tail`
   * events committed so far (oldest first, each with its resume cursor). `from` resumes at
   * the first of those events, `cursor` after all of them: reading from `cursor` returns
   * exactly what was committed later.
   */
  boardSnapshot(boardId: string, tail: number): Promise<BoardSnapshotRows>;
  /**
   * The ids of a board's cards that meet every part of `search` (see CardSearch), in board
   * order (position, id), at most `search.limit`.
   */
  searchCards(search: CardSearch): Promise<string[]>;
  /** Releases what the queue holds beyond the shared client (SQLite: its own connection). */
  close(): void;
}

export interface RunEventsPage {
  events: RunEvent[];
  more: boolean;
}

export interface BoardEvent {
  id: number;
  runId: string;
  cardId: string;
  type: string;
  actor: string;
  createdAt: Date;
  /** The run's status when the event was read (it may have moved on since the event). */
  status: Run["status"];
  /** Resumes right after this event. */
  cursor: string;
}

export interface BoardEventsPage {
  events: BoardEvent[];
  cursor: string;
}

export interface BoardSnapshotRows {
  runs: { runId: string; cardId: string; status: Run["status"] }[];
  tail: BoardEvent[];
  from: string;
  cursor: string;
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

/**
 * How long a follow-up is left to the runner that still holds its parent's checkout (which
 * claims it by id first); after that any runner may take it and check the branch out anew.
 */
export const PREFERRED_GRACE_S = 10;

/** A run as answers show it: without its lease token (only a claim's answer carries that, beside the run). */
export type PublicRun = Omit<Run, "leaseToken">;

export interface Claimed {
  run: PublicRun;
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

/** Event ids are 32-bit (`Int`) columns: a cursor past the largest one was made by nobody. */
export const MAX_EVENT_ID = 2 ** 31 - 1;

/** A board cursor that this database did not make (malformed, or from the other dialect). */
export class InvalidCursorError extends Error {
  override name = "InvalidCursorError";
}

/** Which cards a search looks at: the board's (`exclude`), archived ones too, or only those. */
export type CardSearchArchived = "exclude" | "include" | "only";

/** A card's run status as a search sees it: its latest run's, or `none` before its first run. */
export type CardRunStatus = RunStatus | "none";

/** What a board search asks for; an empty list or null leaves that part out. */
export interface CardSearch {
  boardId: string;
  /** Each one in the title or description, as plain text whatever the case (no LIKE wildcards). */
  words: string[];
  archived: CardSearchArchived;
  /** Each one among the card's labels (exactly as written). */
  labels: string[];
  /** The card's latest run has one of these statuses (`none`: the card has no run yet). */
  statuses: CardRunStatus[];
  projectId: string | null;
  /** Asked for at least one of the card's runs: a run's `createdById` (`user:<id>`, `token:<id>`). */
  requestedBy: string | null;
  limit: number;
}
