import type pg from "pg";
import type { Project, Run, RunEvent } from "../generated/postgresql/client.js";
import { withStatementRetry } from "../transient.js";
import { fromRowJson } from "./rows.js";
import {
  InvalidCursorError,
  MAX_EVENT_ID,
  PREFERRED_GRACE_S,
  RowLockedError,
  type BoardEvent,
  type BoardEventsPage,
  type BoardSnapshotRows,
  type ClaimCheck,
  type Claimed,
  type ExpiredLease,
  type LeaseState,
  type DialectSql,
} from "./types.js";

/**
 * PostgreSQL: a claim is one statement — the claimant's own follow-ups first, then FOR
 * UPDATE SKIP LOCKED in claim order, the claim event, and the
 * run, its project and its checks returned as JSON. Concurrent claims of one scope are
 * claimed together by one such statement, each claimant paired with one run. The queue's
 * statements go straight through the `pg` driver: they are every runner's hot path, and
 * the client's per-query overhead would multiply their cost.
 *
 * Prisma keeps DateTime as UTC in `timestamp(3)` columns, so database time is taken as
 * UTC explicitly, whatever the session's TimeZone.
 */
const NOW = "(now() AT TIME ZONE 'UTC')";

/** After `pair` (run id, runner_id, lease_token, actor, payload, ord): claim, record, return. */
const claimPairs = `
  claimed AS (
    UPDATE runs r SET status = 'claimed', runner_id = pair.runner_id, lease_token = pair.lease_token,
      lease_expires_at = ${NOW} + $LEASE * interval '1 millisecond', heartbeat_at = ${NOW},
      claimed_at = ${NOW}, attempt = r.attempt + 1, event_seq = r.event_seq + 1, updated_at = ${NOW}
    FROM pair WHERE r.id = pair.id
    RETURNING r.*
  ), ev AS (
    INSERT INTO run_events (run_id, seq, type, actor, payload, created_at)
    SELECT c.id, c.event_seq, 'run.claimed', pair.actor, pair.payload, ${NOW}
    FROM claimed c JOIN pair ON pair.id = c.id
  )
  SELECT pair.ord, row_to_json(c) AS run, row_to_json(p) AS project,
    COALESCE((SELECT json_agg(json_build_object('id', d.id, 'key', d.key, 'title', d.title, 'check', d."check",
        'autoValidate', d.auto_validate, 'required', d.required) ORDER BY d.position)
      FROM dod_items d WHERE d.run_id = c.id AND d."check" IS NOT NULL), '[]'::json) AS checks
  FROM claimed c JOIN pair ON pair.id = c.id JOIN projects p ON p.id = c.project_id`;

function bind(sql: string, names: string[]): string {
  return names.reduce((s, name, i) => s.replace(new RegExp(`\\$${name}\\b`, "g"), `$${i + 1}`), sql);
}

/**
 * A named statement: each pooled connection parses and plans it once, then only binds and
 * executes it (these run on every claim, heartbeat and event batch).
 */
function prepared(name: string, text: string) {
  return (values: unknown[]): pg.QueryConfig => ({ name: `agentboard_${name}`, text, values });
}

/** A run a claim may take: its card's budget (if any) is not spent. */
const CARD_BUDGET_LEFT = `NOT EXISTS (SELECT 1 FROM cards c
        WHERE c.id = runs.card_id AND c.budget_usd IS NOT NULL
          AND c.budget_usd <= (SELECT COALESCE(SUM(x.cost_usd), 0) FROM runs x WHERE x.card_id = c.id))`;

/**
 * One statement for a batch of claimants (1-based `ord`, in arrival order). First the
 * claimants' own follow-ups (`mine`: runs whose `preferred_runner_id` is a claimant's
 * runner, the one holding the parent's checkout; others skip them for PREFERRED_GRACE_S),
 * read through the preferred index, a runner's n-th claimant getting its n-th follow-up;
 * the `k`-th of the other claimants then gets the `k`-th eligible run in claim order.
 */
export const CLAIM_NEXT = prepared(
  "claim_next",
  bind(
    `WITH want AS (
    SELECT * FROM unnest($RUNNERS::text[], $TOKENS::text[], $ACTORS::text[], $PAYLOADS::jsonb[])
      WITH ORDINALITY AS w(runner_id, lease_token, actor, payload, ord)
  ), budget_spent AS (
    SELECT 1 FROM workspaces w WHERE w.id = $WS AND w.budget_usd IS NOT NULL AND w.spent_usd >= w.budget_usd
  ), offered AS MATERIALIZED (
    -- Per runner, so that each is one lookup in the preferred index.
    SELECT f.* FROM (SELECT DISTINCT runner_id FROM want) w CROSS JOIN LATERAL (
      SELECT id, preferred_runner_id, priority, created_at FROM runs
      WHERE preferred_runner_id = w.runner_id AND status = 'queued' AND workspace_id = $WS
        AND ($BOARD::text IS NULL OR board_id = $BOARD)
        AND labels <@ $LABELS::jsonb
        AND NOT EXISTS (SELECT 1 FROM budget_spent)
        AND ${CARD_BUDGET_LEFT}
      FOR UPDATE SKIP LOCKED
    ) f
  ), mine AS (
    -- A runner's n-th claimant of the batch gets its n-th follow-up in claim order.
    SELECT o.id, w.ord
    FROM (SELECT id, preferred_runner_id,
        row_number() OVER (PARTITION BY preferred_runner_id ORDER BY priority DESC, created_at, id) AS nth FROM offered) o
    JOIN (SELECT runner_id, ord, row_number() OVER (PARTITION BY runner_id ORDER BY ord) AS nth FROM want) w
      ON w.runner_id = o.preferred_runner_id AND w.nth = o.nth
  ), rest AS (
    SELECT ord, row_number() OVER (ORDER BY ord) AS k FROM want WHERE ord NOT IN (SELECT ord FROM mine)
  ), picked AS MATERIALIZED (
    SELECT id, priority, created_at FROM runs
    WHERE workspace_id = $WS AND status = 'queued'
      AND ($BOARD::text IS NULL OR board_id = $BOARD)
      AND labels <@ $LABELS::jsonb
      -- A follow-up waits ${PREFERRED_GRACE_S} s for the runner holding its parent's checkout (mine, above).
      AND (preferred_runner_id IS NULL OR created_at < ${NOW} - interval '${PREFERRED_GRACE_S} seconds')
      AND id NOT IN (SELECT id FROM offered)
      AND NOT EXISTS (SELECT 1 FROM budget_spent)
      -- A card's budget caps what its runs cost together: none is claimed once it is reached.
      AND ${CARD_BUDGET_LEFT}
    ORDER BY priority DESC, created_at, id
    LIMIT (SELECT count(*) FROM rest)
    FOR UPDATE SKIP LOCKED
  ), pair AS (
    SELECT mine.id, want.runner_id, want.lease_token, want.actor, want.payload, want.ord
    FROM mine JOIN want ON want.ord = mine.ord
    UNION ALL
    SELECT n.id, want.runner_id, want.lease_token, want.actor, want.payload, want.ord
    FROM (SELECT id, row_number() OVER (ORDER BY priority DESC, created_at, id) AS k FROM picked) n
    JOIN rest ON rest.k = n.k JOIN want ON want.ord = rest.ord
  ), ${claimPairs}`,
    ["WS", "BOARD", "LABELS", "LEASE", "RUNNERS", "TOKENS", "ACTORS", "PAYLOADS"],
  ),
);

const CLAIM_BY_ID = prepared(
  "claim_by_id",
  bind(
    `WITH pair AS (
    SELECT id, $RUNNER::text AS runner_id, $TOKEN::text AS lease_token, $ACTOR::text AS actor, $PAYLOAD::jsonb AS payload, 1::bigint AS ord
    FROM runs WHERE id = $RUN AND workspace_id = $WS AND status = 'queued'
    FOR UPDATE NOWAIT
  ), ${claimPairs}`,
    ["RUN", "WS", "RUNNER", "TOKEN", "LEASE", "ACTOR", "PAYLOAD"],
  ),
);

const EXTEND_LEASE = prepared(
  "extend_lease",
  `
  UPDATE runs SET lease_expires_at = ${NOW} + $3 * interval '1 millisecond', heartbeat_at = ${NOW}
  WHERE id = $1 AND lease_token = $2 AND status IN ('claimed', 'running')
  RETURNING (extract(epoch FROM lease_expires_at) * 1000)::float8 AS "leaseExpiresAtMs", cancel_requested_at IS NOT NULL AS "cancelRequested"`,
);

const EXPIRED_LEASES = prepared(
  "expired_leases",
  `
  SELECT id, status::text AS status, lease_token AS "leaseToken", cancel_requested_at IS NOT NULL AS "cancelRequested"
  FROM runs WHERE status IN ('claimed', 'running') AND lease_expires_at < ${NOW}
  ORDER BY lease_expires_at LIMIT $1`,
);

const APPEND_EVENTS = prepared(
  "append_events",
  bind(
    `WITH r AS (
    UPDATE runs SET event_seq = event_seq + $COUNT, updated_at = ${NOW}
    WHERE id = $RUN AND lease_token = $TOKEN AND status IN ('claimed', 'running')
    RETURNING id, event_seq, board_id
  ), ins AS (
    INSERT INTO run_events (run_id, seq, type, actor, payload, created_at)
    SELECT r.id, r.event_seq - $COUNT + e.ord, e.value->>'type', $ACTOR, COALESCE(e.value->'payload', '{}'::jsonb), ${NOW}
    FROM r, jsonb_array_elements($EVENTS::jsonb) WITH ORDINALITY AS e(value, ord)
    RETURNING id, run_id, seq, type, actor, payload, created_at
  )
  SELECT event_seq AS "lastSeq", board_id AS "boardId",
    (SELECT json_agg(json_build_object('id', id, 'runId', run_id, 'seq', seq, 'type', type, 'actor', actor, 'payload', payload,
        'createdAtMs', (extract(epoch FROM created_at) * 1000)::float8) ORDER BY seq) FROM ins) AS events
  FROM r`,
    ["RUN", "TOKEN", "COUNT", "ACTOR", "EVENTS"],
  ),
);

/**
 * A follower's page: `limit` + 1 rows at most, cut where their payloads pass the byte
 * budget. The sizes come first, from `pg_column_size`, which reads the stored size without
 * decompressing anything (so a compressible payload counts for less than it takes in
 * memory); only the rows within the budget are then read.
 */
const EVENTS_AFTER = prepared(
  "events_after",
  `
  WITH page AS (
    SELECT seq, sum(bytes) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) - bytes AS before, count(*) OVER () AS total
    FROM (SELECT seq, pg_column_size(payload) AS bytes FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) sizes
  )
  SELECT e.id, e.run_id AS "runId", e.seq, e.type, e.actor, e.payload, (extract(epoch FROM e.created_at) * 1000)::float8 AS "createdAtMs", page.total
  FROM page JOIN run_events e ON e.run_id = $1 AND e.seq = page.seq
  WHERE page.before < $4 ORDER BY e.seq`,
);

/**
 * Board cursors. Event ids come from one sequence, and two transactions can commit them out
 * of id order, so "after id N" is not exact here. A cursor is instead what was delivered in
 * terms of transaction snapshots: every event written by a transaction visible in snapshot
 * P, plus (within one page) the events visible in snapshot B with id ≤ L. A read returns the
 * events visible in B (or, without B, in the statement's own snapshot) that P did not see,
 * in id order; once a page is short, B becomes the next P. Text form: `P`, or `P~B~L` within
 * a page; a bare number N (an id, as SQLite's cursors are) means "everything after id N
 * that is visible now", so "0" reads from the start.
 */
interface SnapshotCursor {
  seen: string;
  upTo: string | null;
  afterId: number;
}

/** A snapshot that saw nothing: every committed transaction is newer. */
const EMPTY_SNAPSHOT = "1:1:";
const SNAPSHOT = /^\d{1,20}:\d{1,20}:(\d{1,20}(,\d{1,20})*)?$/;

function parseCursor(text: string): SnapshotCursor {
  const cursor = parseCursorText(text);
  if (cursor.afterId > MAX_EVENT_ID) throw new InvalidCursorError("not a board cursor of this server");
  return cursor;
}

function parseCursorText(text: string): SnapshotCursor {
  if (/^\d{1,15}$/.test(text)) return { seen: EMPTY_SNAPSHOT, upTo: null, afterId: Number(text) };
  const [seen, upTo, afterId, ...rest] = text.split("~");
  if (seen && SNAPSHOT.test(seen) && upTo === undefined) return { seen, upTo: null, afterId: 0 };
  if (seen && upTo && afterId && rest.length === 0 && SNAPSHOT.test(seen) && SNAPSHOT.test(upTo) && /^\d{1,15}$/.test(afterId)) {
    return { seen, upTo, afterId: Number(afterId) };
  }
  throw new InvalidCursorError("not a board cursor of this server");
}

/** `seen` alone, or `seen` plus the part of a page up to `upTo` delivered through `afterId`. */
function formatCursor(seen: string, page?: { upTo: string; afterId: number }): string {
  return page ? `${seen}~${page.upTo}~${page.afterId}` : seen;
}

/** Walks the claim-order index's (workspace_id, status) prefix: one row at most per workspace. */
const QUEUED_WORKSPACES = prepared(
  "queued_workspaces",
  `
  SELECT w.id FROM unnest($1::text[]) AS w(id)
  WHERE EXISTS (SELECT 1 FROM runs WHERE workspace_id = w.id AND status = 'queued')`,
);

/** strpos, not LIKE: the words are plain text (a `%` in one is a percent sign). */
const SEARCH_CARDS = prepared(
  "search_cards",
  `
  SELECT c.id FROM cards c
  WHERE c.board_id = $1 AND NOT EXISTS (
    SELECT 1 FROM unnest($2::text[]) w WHERE strpos(lower(c.title || ' ' || c.description), lower(w)) = 0)
    AND CASE $3::text WHEN 'only' THEN c.archived_at IS NOT NULL WHEN 'include' THEN true ELSE c.archived_at IS NULL END
    AND c.labels @> to_jsonb($5::text[])
    AND ($6::text IS NULL OR c.project_id = $6)
    AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM runs r WHERE r.card_id = c.id AND r.created_by_id = $7))
    AND (cardinality($8::text[]) = 0 OR COALESCE(
      (SELECT r.status::text FROM runs r WHERE r.card_id = c.id ORDER BY r.created_at DESC, r.id DESC LIMIT 1), 'none'
    ) = ANY($8::text[]))
  ORDER BY c.position, c.id LIMIT $4`,
);

const BOARD_CURSOR = prepared("board_cursor", "SELECT pg_current_snapshot()::text AS snapshot");

/**
 * One row per event, or a single row of nulls but the snapshot when there are none. Not a
 * named statement: planned with the actual snapshot, a live read walks the short end of the
 * `tx` index; a generic plan cannot know that and walks the ids of the whole table.
 */
const BOARD_EVENTS_AFTER_SQL = bind(
  `WITH s AS (SELECT pg_current_snapshot() AS now)
  SELECT s.now::text AS snapshot, e.id, e.run_id AS "runId", e.card_id AS "cardId", e.type, e.actor, e.status,
    (extract(epoch FROM e.created_at) * 1000)::float8 AS "createdAtMs"
  FROM s
  LEFT JOIN LATERAL (
    SELECT e.id, e.run_id, r.card_id, e.type, e.actor, r.status, e.created_at
    FROM run_events e JOIN runs r ON r.id = e.run_id
    WHERE r.board_id = $BOARD
      AND e.tx >= pg_snapshot_xmin($SEEN::pg_snapshot)
      AND NOT pg_visible_in_snapshot(e.tx, $SEEN::pg_snapshot)
      AND pg_visible_in_snapshot(e.tx, COALESCE($UPTO::pg_snapshot, s.now))
      AND e.id > $AFTER
    ORDER BY e.id LIMIT $LIMIT
  ) e ON true
  ORDER BY e.id`,
  ["BOARD", "SEEN", "UPTO", "AFTER", "LIMIT"],
);
const BOARD_EVENTS_AFTER = (values: unknown[]): pg.QueryConfig => ({ text: BOARD_EVENTS_AFTER_SQL, values });

/** The board's last events visible to the statement, and the statement's snapshot (what they are the end of). */
const BOARD_TAIL = prepared(
  "board_tail",
  `
  WITH s AS (SELECT pg_current_snapshot() AS now)
  SELECT s.now::text AS snapshot, e.id, e.run_id AS "runId", e.card_id AS "cardId", e.type, e.actor, e.status,
    (extract(epoch FROM e.created_at) * 1000)::float8 AS "createdAtMs"
  FROM s
  LEFT JOIN LATERAL (
    SELECT e.id, e.run_id, r.card_id, e.type, e.actor, r.status, e.created_at
    FROM run_events e JOIN runs r ON r.id = e.run_id
    WHERE r.board_id = $1 ORDER BY e.id DESC LIMIT $2
  ) e ON true
  ORDER BY e.id`,
);

/** Each card's latest run, through the (card_id, created_at) index: one lookup per card, whatever the history. */
const BOARD_LATEST_RUNS = prepared(
  "board_latest_runs",
  `
  SELECT r.id AS "runId", r.card_id AS "cardId", r.status
  FROM cards c JOIN LATERAL (
    SELECT id, card_id, status, created_at FROM runs WHERE card_id = c.id ORDER BY created_at DESC, id DESC LIMIT 1
  ) r ON true
  WHERE c.board_id = $1 ORDER BY r.created_at DESC, r.id DESC`,
);

type BoardEventRow = { snapshot: string } & ({ id: null } | (Omit<BoardEvent, "createdAt" | "cursor"> & { createdAtMs: number }));

/** One page of a board's events after `at`; see SnapshotCursor. */
async function readBoardPage(pool: pg.Pool, boardId: string, at: SnapshotCursor, limit: number): Promise<BoardEventsPage> {
  let rows: BoardEventRow[];
  try {
    ({ rows } = await withStatementRetry(false, () => pool.query<BoardEventRow>(BOARD_EVENTS_AFTER([boardId, at.seen, at.upTo, at.afterId, limit]))));
  } catch (err) {
    // Well-formed text that is still no snapshot (xmin above xmax, say).
    if ((err as { code?: unknown }).code === "22P02") throw new InvalidCursorError("not a board cursor of this server", { cause: err });
    throw err;
  }
  const upTo = at.upTo ?? rows[0]!.snapshot;
  const events: BoardEvent[] = [];
  for (const row of rows) {
    if (row.id === null) continue;
    const { snapshot: _, createdAtMs, ...e } = row;
    events.push({ ...e, createdAt: new Date(createdAtMs), cursor: formatCursor(at.seen, { upTo, afterId: e.id }) });
  }
  // A short page is all that `upTo` saw beyond `seen`: it becomes what was seen.
  return { events, cursor: events.length < limit ? formatCursor(upTo) : events.at(-1)!.cursor };
}

type StoredEvent = Omit<RunEvent, "createdAt"> & { createdAtMs: number };

function fromStored({ createdAtMs, ...e }: StoredEvent): RunEvent {
  return { ...e, createdAt: new Date(createdAtMs) };
}

/** lock_not_available: NOWAIT met a row locked by a concurrent claim. */
function rethrowLocked(err: unknown): never {
  if ((err as { code?: unknown }).code === "55P03") throw new RowLockedError("run is locked by a concurrent claim", { cause: err });
  throw err;
}

interface ClaimRow {
  ord: string;
  run: Record<string, unknown>;
  project: Record<string, unknown>;
  checks: ClaimCheck[];
}

function toClaimed(row: ClaimRow | undefined): Claimed | null {
  if (!row) return null;
  const { leaseToken: _secret, ...run } = fromRowJson<Run>(row.run);
  return { run, project: fromRowJson<Project>(row.project), checks: row.checks };
}

export function createPostgresqlSql(pool: pg.Pool): DialectSql {
  // Each statement is one autocommit statement: one that met a lost connection did not
  // happen and is sent again (transient.ts).
  const write = <R extends pg.QueryResultRow>(q: pg.QueryConfig) => withStatementRetry(true, () => pool.query<R>(q));
  const read = <R extends pg.QueryResultRow>(q: pg.QueryConfig) => withStatementRetry(false, () => pool.query<R>(q));
  return {
    async claimNext(a) {
      const { rows } = await write<ClaimRow>(
        CLAIM_NEXT([
          a.workspaceId,
          a.boardId,
          JSON.stringify(a.labels),
          a.leaseMs,
          a.claimants.map((c) => c.runnerId),
          a.claimants.map((c) => c.leaseToken),
          a.claimants.map((c) => c.event.actor),
          a.claimants.map((c) => JSON.stringify(c.event.payload)),
        ]),
      );
      const byOrd = new Map(rows.map((row) => [Number(row.ord), row]));
      return a.claimants.map((_, i) => toClaimed(byOrd.get(i + 1)));
    },

    async claimById(a) {
      try {
        const { rows } = await write<ClaimRow>(
          CLAIM_BY_ID([a.runId, a.workspaceId, a.runnerId, a.leaseToken, a.leaseMs, a.event.actor, JSON.stringify(a.event.payload)]),
        );
        return toClaimed(rows[0]);
      } catch (err) {
        rethrowLocked(err);
      }
    },

    async queuedWorkspaces(workspaceIds) {
      const { rows } = await read<{ id: string }>(QUEUED_WORKSPACES([workspaceIds]));
      return new Set(rows.map((r) => r.id));
    },

    async extendLease(a): Promise<LeaseState | null> {
      const { rows } = await write<{ leaseExpiresAtMs: number; cancelRequested: boolean }>(EXTEND_LEASE([a.runId, a.leaseToken, a.leaseMs]));
      const row = rows[0];
      return row ? { leaseExpiresAt: new Date(row.leaseExpiresAtMs), cancelRequested: row.cancelRequested } : null;
    },

    async expiredLeases(limit): Promise<ExpiredLease[]> {
      return (await read<ExpiredLease>(EXPIRED_LEASES([limit]))).rows;
    },

    async appendEvents(a) {
      const { rows } = await write<{ lastSeq: number; boardId: string; events: StoredEvent[] }>(
        APPEND_EVENTS([a.runId, a.leaseToken, a.events.length, a.actor, JSON.stringify(a.events)]),
      );
      const row = rows[0];
      return row ? { lastSeq: Number(row.lastSeq), boardId: row.boardId, events: row.events.map(fromStored) } : null;
    },

    async eventsAfter(runId, afterSeq, limit, maxBytes) {
      // The driver parses the payloads here (no rawPayload): jsonb's text form has spaces the
      // transformer's JSON has not, and the direct paths send the bytes tRPC's handler sends.
      const { rows } = await read<StoredEvent & { total: string }>(EVENTS_AFTER([runId, afterSeq, limit + 1, maxBytes]));
      const more = rows.length > limit || Number(rows[0]?.total ?? 0) > rows.length;
      return { events: rows.slice(0, limit).map(({ total: _, ...e }) => fromStored(e)), more };
    },

    async boardCursor() {
      const { rows } = await read<{ snapshot: string }>(BOARD_CURSOR([]));
      return rows[0]!.snapshot;
    },

    async boardSnapshot(boardId, tail) {
      const [{ rows }, runs] = await Promise.all([
        read<BoardEventRow>(BOARD_TAIL([boardId, tail])),
        read<BoardSnapshotRows["runs"][number]>(BOARD_LATEST_RUNS([boardId])),
      ]);
      const now = rows[0]!.snapshot;
      // Within the tail, a cursor is "what `now` saw, after this id" (see SnapshotCursor).
      const after = (id: number) => formatCursor(EMPTY_SNAPSHOT, { upTo: now, afterId: id });
      const events: BoardEvent[] = [];
      for (const row of rows) {
        if (row.id === null) continue;
        const { snapshot: _, createdAtMs, ...e } = row;
        events.push({ ...e, createdAt: new Date(createdAtMs), cursor: after(e.id) });
      }
      const first = events[0];
      const cursor = formatCursor(now);
      if (first) events.at(-1)!.cursor = cursor;
      return { runs: runs.rows, tail: events, from: first ? after(first.id - 1) : cursor, cursor };
    },

    async boardEventsAfter(boardId, text, limit) {
      const at = parseCursor(text);
      const page = await readBoardPage(pool, boardId, at, limit);
      // The rest of a page that was cut short is not all there is: what committed since
      // follows on, so that a short result still means "caught up".
      if (at.upTo === null || page.events.length === limit) return page;
      // A short page's cursor is the page's snapshot alone: everything it saw is delivered.
      const more = await readBoardPage(pool, boardId, { seen: page.cursor, upTo: null, afterId: 0 }, limit - page.events.length);
      return { events: [...page.events, ...more.events], cursor: more.cursor };
    },

    async searchCards(s) {
      const { rows } = await read<{ id: string }>(SEARCH_CARDS([s.boardId, s.words, s.archived, s.limit, s.labels, s.projectId, s.requestedBy, s.statuses]));
      return rows.map((r) => r.id);
    },

    close() {},
  };
}
