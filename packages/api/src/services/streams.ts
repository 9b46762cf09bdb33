import { InvalidCursorError, type BoardEvent, type BoardSnapshotRows, type RunEvent, type RunEventsPage } from "@agentboard/db";
import { untilStopped, type Deps } from "./deps.js";
import { RecentEvents } from "./recent-events.js";
import { badRequest } from "../errors.js";
import { createWaiter, topics } from "../infra/notifier.js";

const PAGE = 500;
/**
 * A page also ends before its payloads pass this many bytes: a follower that waits on a
 * slow client holds one page, and a run's payloads may be up to 256 KiB each.
 */
const PAGE_BYTES = 1024 * 1024;
/** Longest a follower sleeps without a notification before it re-reads anyway. */
const POLL_MS = 5_000;

/**
 * Every event of a run after `afterSeq`, then each new one as it is committed: a backfill
 * from the event table, then follow. Sequence numbers are gap-free and in commit order per
 * run, so a client that resumes from its last seq gets everything it missed, once.
 */
export async function* followRunEvents(deps: Deps, runId: string, afterSeq: number, requestSignal?: AbortSignal): AsyncGenerator<RunEvent> {
  const signal = untilStopped(deps, requestSignal);
  const waiter = createWaiter(deps.notifier, topics.run(runId));
  let cursor = afterSeq;
  try {
    while (!signal.aborted) {
      const page = await readRunEvents(deps, runId, cursor);
      for (const e of page.events) {
        cursor = e.seq;
        yield e;
      }
      if (page.more) continue;
      await waiter.wait(POLL_MS, signal);
    }
  } finally {
    waiter.close();
  }
}

const recentByDeps = new WeakMap<Deps, RecentEvents>();

/** Keeps what this process just appended for its own followers (see RecentEvents). */
export function rememberEvents(deps: Deps, runId: string, events: RunEvent[]): void {
  let recent = recentByDeps.get(deps);
  if (!recent) recentByDeps.set(deps, (recent = new RecentEvents()));
  recent.remember(runId, events);
}

/**
 * Reads in flight, by what they read (a run or a board, and the cursor). Every live
 * follower of a run or board sits at the same cursor and is woken by the same
 * notification, so one query serves them all instead of one each; they also get the same
 * objects, which the SSE writer serializes once for all of them.
 */
function sharedReads<T>(): (deps: Deps, key: string, read: () => Promise<T>) => Promise<T> {
  const byDeps = new WeakMap<Deps, Map<string, Promise<T>>>();
  return (deps, key, read) => {
    let reads = byDeps.get(deps);
    if (!reads) byDeps.set(deps, (reads = new Map()));
    const pending = reads.get(key);
    if (pending) return pending;
    const started = read().finally(() => reads.delete(key));
    reads.set(key, started);
    return started;
  };
}

const runReads = sharedReads<RunEventsPage>();

function readRunEvents(deps: Deps, runId: string, afterSeq: number): Promise<RunEventsPage> {
  // What this process appended last is everything there is, unless another replica wrote
  // since, and then a notification brings the follower back here.
  const recent = recentByDeps.get(deps)?.after(runId, afterSeq, PAGE);
  if (recent) return Promise.resolve({ events: recent, more: false });
  return runReads(deps, `${runId}:${afterSeq}`, () => deps.db.sql.eventsAfter(runId, afterSeq, PAGE, PAGE_BYTES));
}

/** A run event of one of the board's cards, with its run's status when it was read. */
export type BoardRunChange = { kind: "run" } & Omit<BoardEvent, "cursor">;

/**
 * Cards were created, edited, moved or deleted: re-read the card list. These changes are
 * not run events, so they have no id to resume from; a client that reconnects re-reads
 * the cards anyway.
 */
export interface BoardCardsChange {
  kind: "cards";
}

/**
 * Where a follower that brought no cursor starts: each card's latest run with its status
 * now. The board's last BOARD_TAIL run events follow it, then everything committed later.
 * Its cursor resumes at the first of those events, so a follower that reconnects after it
 * gets the tail and what followed, without the snapshot again.
 */
export interface BoardSnapshot {
  kind: "snapshot";
  runs: BoardSnapshotRows["runs"];
}

/** Events a follower without a cursor gets before the live ones: recent context, not history. */
export const BOARD_TAIL = 100;

/**
 * Changes of a board, for live boards: its runs' events, each with the cursor that resumes
 * right after it (exact on both databases: see DialectSql.boardEventsAfter), and card edits
 * (live only, cursor null). Without a cursor (`from` null) it starts from a snapshot of the
 * board instead of replaying its history.
 */
export async function* followBoardChanges(
  deps: Deps,
  boardId: string,
  from: string | null,
  requestSignal?: AbortSignal,
): AsyncGenerator<{ change: BoardRunChange | BoardSnapshot; cursor: string } | { change: BoardCardsChange; cursor: null }> {
  const signal = untilStopped(deps, requestSignal);
  let cardsChanged = false;
  // Subscribed before the first read, like the waiter, so no change slips in between.
  const stopCards = deps.notifier.subscribe(topics.cards(boardId), () => {
    cardsChanged = true;
  });
  const waiter = createWaiter(deps.notifier, [topics.board(boardId), topics.cards(boardId)]);
  try {
    let cursor: string;
    if (from === null) {
      const snapshot = await deps.db.sql.boardSnapshot(boardId, BOARD_TAIL);
      yield { change: { kind: "snapshot", runs: snapshot.runs }, cursor: snapshot.from };
      for (const { cursor: after, ...event } of snapshot.tail) yield { change: { kind: "run", ...event }, cursor: after };
      cursor = snapshot.cursor;
    } else cursor = from;
    while (!signal.aborted) {
      if (cardsChanged) {
        cardsChanged = false;
        yield { change: { kind: "cards" }, cursor: null };
      }
      const page = await readBoardChanges(deps, boardId, cursor);
      yield* page.changes;
      cursor = page.cursor;
      if (page.changes.length === PAGE || cardsChanged) continue;
      await waiter.wait(POLL_MS, signal);
    }
  } finally {
    stopCards();
    waiter.close();
  }
}

const boardReads = sharedReads<{ changes: { change: BoardRunChange; cursor: string }[]; cursor: string }>();

/** The board's run events after `cursor` as changes, read once for all its followers there. */
function readBoardChanges(deps: Deps, boardId: string, cursor: string) {
  return boardReads(deps, `${boardId}:${cursor}`, async () => {
    const page = await deps.db.sql.boardEventsAfter(boardId, cursor, PAGE).catch((err: unknown) => {
      throw err instanceof InvalidCursorError ? badRequest(`lastEventId: ${err.message}`, "lastEventId") : err;
    });
    return { changes: page.events.map(({ cursor: after, ...event }) => ({ change: { kind: "run" as const, ...event }, cursor: after })), cursor: page.cursor };
  });
}
