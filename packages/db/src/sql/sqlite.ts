import BetterSqlite3 from "better-sqlite3";
import type { AppPrismaClient } from "../client.js";
import type { Project, Run, RunEvent } from "../generated/postgresql/client.js";
import { withJsonPayload } from "./rows.js";
import {
  InvalidCursorError,
  MAX_EVENT_ID,
  PREFERRED_GRACE_S,
  type AppendedEvents,
  type AppendEventsArgs,
  type BoardEvent,
  type BoardEventsPage,
  type BoardSnapshotRows,
  type ClaimByIdArgs,
  type ClaimCheck,
  type ClaimEvent,
  type ClaimNextArgs,
  type CardSearch,
  type RunEventsPage,
  type Claimed,
  type ExpiredLease,
  type LeaseState,
  type DialectSql,
} from "./types.js";

/**
 * SQLite: one writer at a time, so a claim is a single UPDATE … WHERE id = (SELECT …)
 * RETURNING, followed by its event in the same transaction. Times are integer
 * milliseconds since the epoch (the adapter's `unixepoch-ms` format).
 */

const NOW_MS = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

const CLAIM_SET = `status = 'claimed', runner_id = ?, lease_token = ?,
  lease_expires_at = ${NOW_MS} + ?, heartbeat_at = ${NOW_MS}, claimed_at = ${NOW_MS},
  attempt = attempt + 1, event_seq = event_seq + 1, updated_at = ${NOW_MS}`;

/** The run's labels are all among the claimant's (a JSON array parameter). */
const LABELS_HELD = "NOT EXISTS (SELECT 1 FROM json_each(r.labels) l WHERE l.value NOT IN (SELECT value FROM json_each(?)))";

/** Neither the workspace's budget nor the run's card's is spent. */
const BUDGETS_LEFT = `NOT EXISTS (SELECT 1 FROM workspaces w
        WHERE w.id = r.workspace_id AND w.budget_usd IS NOT NULL AND w.spent_usd >= w.budget_usd)
      -- A card's budget caps what its runs cost together: none is claimed once it is reached.
      AND NOT EXISTS (SELECT 1 FROM cards c
        WHERE c.id = r.card_id AND c.budget_usd IS NOT NULL
          AND c.budget_usd <= (SELECT COALESCE(SUM(x.cost_usd), 0) FROM runs x WHERE x.card_id = c.id))`;

const CLAIM_NEXT = `
  UPDATE runs SET ${CLAIM_SET}
  WHERE id = (
    SELECT r.id FROM runs r
    WHERE r.workspace_id = ? AND r.status = 'queued'
      AND (? IS NULL OR r.board_id = ?)
      AND ${LABELS_HELD}
      -- A follow-up waits ${PREFERRED_GRACE_S} s for the runner holding its parent's checkout (PREFERRED_NEXT).
      AND (r.preferred_runner_id IS NULL OR r.created_at < ${NOW_MS} - ${PREFERRED_GRACE_S * 1000})
      AND ${BUDGETS_LEFT}
    ORDER BY r.priority DESC, r.created_at, r.id
    LIMIT 1)
  RETURNING *`;

const CLAIM_BY_ID = `
  UPDATE runs SET ${CLAIM_SET}
  WHERE id = ? AND workspace_id = ? AND status = 'queued'
  RETURNING *`;

const CLAIM_PROJECT = "SELECT * FROM projects WHERE id = ?";
const CLAIM_CHECKS = `
  SELECT id, key, title, "check", auto_validate, required FROM dod_items
  WHERE run_id = ? AND "check" IS NOT NULL ORDER BY position`;

const INSERT_EVENT = `
  INSERT INTO run_events (run_id, seq, type, actor, payload, created_at)
  VALUES (?, ?, 'run.claimed', ?, ?, ${NOW_MS})`;

const EXTEND_LEASE = `
  UPDATE runs SET lease_expires_at = ${NOW_MS} + ?, heartbeat_at = ${NOW_MS}
  WHERE id = ? AND lease_token = ? AND status IN ('claimed', 'running')
  RETURNING lease_expires_at AS leaseExpiresAt, cancel_requested_at IS NOT NULL AS cancelRequested`;

const EXPIRED_LEASES = `
  SELECT id, status, lease_token AS leaseToken, cancel_requested_at IS NOT NULL AS cancelRequested
  FROM runs WHERE status IN ('claimed', 'running') AND lease_expires_at < ${NOW_MS}
  ORDER BY lease_expires_at LIMIT ?`;

const RESERVE_SEQ = `
  UPDATE runs SET event_seq = event_seq + ?, updated_at = ${NOW_MS}
  WHERE id = ? AND lease_token = ? AND status IN ('claimed', 'running')
  RETURNING event_seq AS lastSeq, board_id AS boardId`;

/** json_each walks the array in order; its key is the 0-based index. */
const INSERT_EVENTS = `
  INSERT INTO run_events (run_id, seq, type, actor, payload, created_at)
  SELECT ?, ? + key + 1, json_extract(value, '$.type'), ?, COALESCE(json_extract(value, '$.payload'), '{}'), ${NOW_MS}
  FROM json_each(?)`;

/** What an append wrote, read back in its transaction. */
const APPENDED = `
  SELECT id, run_id AS runId, seq, type, actor, payload, created_at AS createdAt
  FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?`;

/**
 * A follower's page: `limit` + 1 rows at most, cut where their payloads pass the byte
 * budget. The sizes come first, from `octet_length`, which SQLite answers from the record
 * header without reading the payload; only the rows within the budget are then read.
 */
const EVENTS_AFTER = `
  WITH page AS (
    SELECT seq, sum(bytes) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) - bytes AS before, count(*) OVER () AS total
    FROM (SELECT seq, octet_length(payload) AS bytes FROM run_events WHERE run_id = @runId AND seq > @afterSeq ORDER BY seq LIMIT @limit)
  )
  SELECT e.id, e.run_id AS runId, e.seq, e.type, e.actor, e.payload, e.created_at AS createdAt, page.total
  FROM page JOIN run_events e ON e.run_id = @runId AND e.seq = page.seq
  WHERE page.before < @maxBytes ORDER BY e.seq`;

type StoredEvent = Omit<RunEvent, "payload" | "createdAt"> & { payload: string; createdAt: number };

/**
 * Board cursors are event ids here: with one writer at a time, ids commit in order, so
 * "after id N" is exact.
 */
const BOARD_EVENTS_AFTER = `
  SELECT e.id, e.run_id AS runId, r.card_id AS cardId, e.type, e.actor, r.status, e.created_at AS createdAt
  FROM run_events e JOIN runs r ON r.id = e.run_id
  WHERE r.board_id = ? AND e.id > ? ORDER BY e.id LIMIT ?`;
const LAST_EVENT_ID = "SELECT COALESCE(max(id), 0) AS id FROM run_events";
const BOARD_TAIL = `
  SELECT e.id, e.run_id AS runId, r.card_id AS cardId, e.type, e.actor, r.status, e.created_at AS createdAt
  FROM run_events e JOIN runs r ON r.id = e.run_id
  WHERE r.board_id = ? AND e.id <= ? ORDER BY e.id DESC LIMIT ?`;
/** Each card's latest run, through the (card_id, created_at) index: one lookup per card, whatever the history. */
const BOARD_LATEST_RUNS = `
  SELECT r.id AS runId, r.card_id AS cardId, r.status
  FROM cards c JOIN runs r ON r.id = (SELECT id FROM runs WHERE card_id = c.id ORDER BY created_at DESC, id DESC LIMIT 1)
  WHERE c.board_id = ? ORDER BY r.created_at DESC, r.id DESC`;

type StoredBoardEvent = Omit<BoardEvent, "createdAt" | "cursor"> & { createdAt: number };

function parseCursor(text: string): number {
  if (!/^\d{1,15}$/.test(text) || Number(text) > MAX_EVENT_ID) throw new InvalidCursorError("not a board cursor of this server");
  return Number(text);
}

/** The claimant's own next follow-up (through the preferred index), claimed before the queue's next run. */
export const PREFERRED_NEXT = `
  SELECT r.id FROM runs r
  WHERE r.preferred_runner_id = ? AND r.status = 'queued' AND r.workspace_id = ? AND (? IS NULL OR r.board_id = ?)
    AND ${LABELS_HELD}
    AND ${BUDGETS_LEFT}
  ORDER BY r.priority DESC, r.created_at, r.id LIMIT 1`;

/** Walks the claim-order index's (workspace_id, status) prefix: one row at most per workspace. */
const QUEUED_WORKSPACES = `
  SELECT w.value AS id FROM json_each(?) w
  WHERE EXISTS (SELECT 1 FROM runs WHERE workspace_id = w.value AND status = 'queued')`;

/** The lists arrive as JSON arrays; an empty one leaves its part out. */
const SEARCH_CARDS = `
  SELECT c.id FROM cards c
  WHERE c.board_id = @boardId AND NOT EXISTS (
    SELECT 1 FROM json_each(@words) w WHERE instr(lower(c.title || ' ' || c.description), lower(w.value)) = 0)
    AND CASE @archived WHEN 'only' THEN c.archived_at IS NOT NULL WHEN 'include' THEN 1 ELSE c.archived_at IS NULL END
    AND NOT EXISTS (SELECT 1 FROM json_each(@labels) l WHERE l.value NOT IN (SELECT value FROM json_each(c.labels)))
    AND (@projectId IS NULL OR c.project_id = @projectId)
    AND (@requestedBy IS NULL OR EXISTS (SELECT 1 FROM runs r WHERE r.card_id = c.id AND r.created_by_id = @requestedBy))
    AND (json_array_length(@statuses) = 0 OR COALESCE(
      (SELECT r.status FROM runs r WHERE r.card_id = c.id ORDER BY r.created_at DESC, r.id DESC LIMIT 1), 'none'
    ) IN (SELECT value FROM json_each(@statuses)))
  ORDER BY c.position, c.id LIMIT @limit`;

type SearchParams = Omit<CardSearch, "words" | "labels" | "statuses"> & { words: string; labels: string; statuses: string };

/** How long an append waits, in all, for the client's open transaction to end. */
const BUSY_WAIT_MS = 5_000;

/**
 * The streaming hot path — events appended by runners, read back by followers — runs on a
 * connection of its own with statements prepared once; through the client, every call
 * would be compiled, prepared and run as an interactive transaction. This connection's
 * write transactions are synchronous, so the client never finds one open. The client's
 * interactive transactions stay open across awaits, so here a busy database is not waited
 * for in place (that would block the event loop the client needs to finish): the append
 * is retried shortly after, up to BUSY_WAIT_MS.
 */
function openHotPath(file: string) {
  const conn = new BetterSqlite3(file);
  conn.pragma("journal_mode = WAL");
  conn.pragma("synchronous = NORMAL");
  conn.pragma("foreign_keys = ON");
  conn.pragma("busy_timeout = 0");
  const reserve = conn.prepare<[number, string, string], { lastSeq: number; boardId: string }>(RESERVE_SEQ);
  const insert = conn.prepare<[string, number, string, string]>(INSERT_EVENTS);
  const after = conn.prepare<[string, number, number], StoredEvent>(APPENDED);
  const page = conn.prepare<[{ runId: string; afterSeq: number; limit: number; maxBytes: number }], StoredEvent & { total: number }>(EVENTS_AFTER);
  const boardAfter = conn.prepare<[string, number, number], StoredBoardEvent>(BOARD_EVENTS_AFTER);
  const lastEventId = conn.prepare<[], { id: number }>(LAST_EVENT_ID);
  const boardTail = conn.prepare<[string, number, number], StoredBoardEvent>(BOARD_TAIL);
  const latestRuns = conn.prepare<[string], BoardSnapshotRows["runs"][number]>(BOARD_LATEST_RUNS);
  const searchCards = conn.prepare<[SearchParams], { id: string }>(SEARCH_CARDS);
  const toBoardEvent = (e: StoredBoardEvent): BoardEvent => ({ ...e, createdAt: new Date(e.createdAt), cursor: String(e.id) });
  const fromStored = (e: StoredEvent): RunEvent => withJsonPayload({ ...e, createdAt: new Date(e.createdAt) });
  const claimNextStmt = conn.prepare<unknown[], Record<string, unknown>>(CLAIM_NEXT);
  const claimByIdStmt = conn.prepare<unknown[], Record<string, unknown>>(CLAIM_BY_ID);
  const preferredNext = conn.prepare<[string, string, string | null, string | null, string], { id: string }>(PREFERRED_NEXT);
  const queuedWorkspaces = conn.prepare<[string], { id: string }>(QUEUED_WORKSPACES);
  const claimEvent = conn.prepare<[string, number, string, string]>(INSERT_EVENT);
  const claimProject = conn.prepare<[string], Record<string, unknown>>(CLAIM_PROJECT);
  const claimChecks = conn.prepare<[string], Record<string, unknown>>(CLAIM_CHECKS);
  const runRow = rowReader(conn, "runs");
  const projectRow = rowReader(conn, "projects");
  const checkRow = rowReader(conn, "dod_items");
  /** The claimed row → what the runner needs, read in the claim's transaction. */
  const toClaimed = (row: Record<string, unknown>, event: ClaimEvent): Claimed => {
    const { leaseToken: _secret, ...run } = runRow<Run>(row);
    claimEvent.run(run.id, run.eventSeq, event.actor, JSON.stringify(event.payload));
    return { run, project: projectRow<Project>(claimProject.get(run.projectId)!), checks: claimChecks.all(run.id).map((c) => checkRow<ClaimCheck>(c)) };
  };
  // Every claimant of a batch in one synchronous write transaction: no other statement
  // interleaves, so two claimants never see the same queued run.
  const claimBatch = conn.transaction((a: ClaimNextArgs): (Claimed | null)[] => {
    const labels = JSON.stringify(a.labels);
    return a.claimants.map((c) => {
      // The claimant's own follow-up first (the runner holding its parent's checkout).
      const mine = preferredNext.get(c.runnerId, a.workspaceId, a.boardId, a.boardId, labels);
      const row = mine
        ? claimByIdStmt.get(c.runnerId, c.leaseToken, a.leaseMs, mine.id, a.workspaceId)
        : claimNextStmt.get(c.runnerId, c.leaseToken, a.leaseMs, a.workspaceId, a.boardId, a.boardId, labels);
      return row ? toClaimed(row, c.event) : null;
    });
  });
  const claimOne = conn.transaction((a: ClaimByIdArgs): Claimed | null => {
    const row = claimByIdStmt.get(a.runnerId, a.leaseToken, a.leaseMs, a.runId, a.workspaceId);
    return row ? toClaimed(row, a.event) : null;
  });
  const append = conn.transaction((a: AppendEventsArgs): AppendedEvents | null => {
    const row = reserve.get(a.events.length, a.runId, a.leaseToken);
    if (!row) return null;
    const first = row.lastSeq - a.events.length;
    insert.run(a.runId, first, a.actor, JSON.stringify(a.events));
    return { lastSeq: row.lastSeq, boardId: row.boardId, events: after.all(a.runId, first, a.events.length).map(fromStored) };
  });
  return {
    claimNext: (a: ClaimNextArgs) => whenNotBusy(() => claimBatch.immediate(a)),
    claimById: (a: ClaimByIdArgs) => whenNotBusy(() => claimOne.immediate(a)),
    queuedWorkspaces: (workspaceIds: readonly string[]): Promise<Set<string>> =>
      whenNotBusy(() => new Set(queuedWorkspaces.all(JSON.stringify(workspaceIds)).map((r) => r.id))),
    appendEvents: (a: AppendEventsArgs) => whenNotBusy(() => append.immediate(a)),
    eventsAfter: (runId: string, afterSeq: number, limit: number, maxBytes: number): Promise<RunEventsPage> =>
      whenNotBusy(() => {
        const rows = page.all({ runId, afterSeq, limit: limit + 1, maxBytes });
        const more = rows.length > limit || (rows[0]?.total ?? 0) > rows.length;
        return { events: rows.slice(0, limit).map(({ total: _, ...e }) => fromStored(e)), more };
      }),
    boardCursor: (): Promise<string> => whenNotBusy(() => String(lastEventId.get()!.id)),
    boardEventsAfter: async (boardId: string, cursor: string, limit: number): Promise<BoardEventsPage> => {
      const afterId = parseCursor(cursor);
      const events = await whenNotBusy(() => boardAfter.all(boardId, afterId, limit).map(toBoardEvent));
      return { events, cursor: events.at(-1)?.cursor ?? String(afterId) };
    },
    // One synchronous read: nothing commits between the last id, the tail and the runs.
    boardSnapshot: (boardId: string, tail: number): Promise<BoardSnapshotRows> =>
      whenNotBusy(() => {
        const now = lastEventId.get()!.id;
        const events = boardTail.all(boardId, now, tail).reverse().map(toBoardEvent);
        const first = events[0];
        return { runs: latestRuns.all(boardId), tail: events, from: String(first ? first.id - 1 : now), cursor: String(now) };
      }),
    searchCards: (search: CardSearch): Promise<string[]> =>
      whenNotBusy(() =>
        searchCards
          .all({ ...search, words: JSON.stringify(search.words), labels: JSON.stringify(search.labels), statuses: JSON.stringify(search.statuses) })
          .map((r) => r.id),
      ),
    close: () => conn.close(),
  };
}

/**
 * A row as better-sqlite3 gives it → the shape the Prisma client gives, by the columns'
 * declared types (read once per table): camelCase keys (every column is the snake_case of
 * its field), DATETIME as Date (stored as epoch milliseconds), BOOLEAN as boolean, JSONB
 * parsed, BIGINT as bigint. A test compares this with the client's own reads.
 */
function rowReader(conn: BetterSqlite3.Database, table: string) {
  const columns = conn.pragma(`table_info(${table})`) as { name: string; type: string }[];
  const kinds = new Map(
    columns.map((c) => [c.name, { field: c.name.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase()), type: c.type.toUpperCase() }]),
  );
  return <T>(row: Record<string, unknown>): T => {
    const out: Record<string, unknown> = {};
    for (const column in row) {
      const value = row[column];
      const kind = kinds.get(column);
      if (!kind) throw new Error(`unknown column ${table}.${column}`);
      out[kind.field] = value === null ? null : convert(kind.type, value);
    }
    return out as T;
  };
}

function convert(type: string, value: unknown): unknown {
  switch (type) {
    case "DATETIME":
      return new Date(typeof value === "string" && !/^\d+$/.test(value) ? `${value.replace(" ", "T")}${value.endsWith("Z") ? "" : "Z"}` : Number(value));
    case "BOOLEAN":
      return value === 1 || value === 1n || value === true;
    case "JSONB":
      return typeof value === "string" ? JSON.parse(value) : value;
    case "BIGINT":
      return typeof value === "bigint" ? value : BigInt(value as number);
    default:
      return value;
  }
}

async function whenNotBusy<T>(run: () => T): Promise<T> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      return run();
    } catch (err) {
      if ((err as { code?: unknown }).code !== "SQLITE_BUSY" || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export function createSqliteSql(db: AppPrismaClient, file: string): DialectSql {
  const hot = openHotPath(file);
  return {
    claimNext: (a) => hot.claimNext(a),

    claimById: (a) => hot.claimById(a),

    queuedWorkspaces: (workspaceIds) => hot.queuedWorkspaces(workspaceIds),

    async extendLease(a): Promise<LeaseState | null> {
      const rows = await db.$queryRawUnsafe<{ leaseExpiresAt: number | bigint; cancelRequested: number | bigint }[]>(
        EXTEND_LEASE,
        a.leaseMs,
        a.runId,
        a.leaseToken,
      );
      const row = rows[0];
      return row ? { leaseExpiresAt: new Date(Number(row.leaseExpiresAt)), cancelRequested: Number(row.cancelRequested) === 1 } : null;
    },

    async expiredLeases(limit): Promise<ExpiredLease[]> {
      const rows = await db.$queryRawUnsafe<(Omit<ExpiredLease, "cancelRequested"> & { cancelRequested: number | bigint })[]>(EXPIRED_LEASES, limit);
      return rows.map((r) => ({ ...r, cancelRequested: Number(r.cancelRequested) === 1 }));
    },

    appendEvents: (a) => hot.appendEvents(a),

    eventsAfter: (runId, afterSeq, limit, maxBytes) => hot.eventsAfter(runId, afterSeq, limit, maxBytes),

    boardCursor: () => hot.boardCursor(),

    boardEventsAfter: (boardId, cursor, limit) => hot.boardEventsAfter(boardId, cursor, limit),

    boardSnapshot: (boardId, tail) => hot.boardSnapshot(boardId, tail),

    searchCards: (search) => hot.searchCards(search),

    close: () => hot.close(),
  };
}
