import { InvalidCursorError, type BoardEvent, type BoardSnapshotRows, type RunEvent } from "@agentboard/db";
import { untilStopped, type Deps } from "./deps.js";
import { badRequest } from "../errors.js";
import { createWaiter, topics } from "../infra/notifier.js";

const PAGE = 500;
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
      const events = await readRunEvents(deps, runId, cursor);
      for (const e of events) {
        cursor = e.seq;
        yield e;
      }
      if (events.length === PAGE) continue;
      await waiter.wait(POLL_MS, signal);
    }
  } finally {
    waiter.close();
  }
}

/**
 * Events this process appended lately, by run: its own followers take them from here
 * instead of reading back what it just wrote. Only a run that continues exactly from a
 * follower's cursor is served from memory (sequence numbers are gap-free and unique per
 * run, so these are the stored events); anything else, such as events another replica
 * appended, is read from the database.
 */
const RECENT_PER_RUN = 256;
const RECENT_RUNS = 2_000;
const recentByDeps = new WeakMap<Deps, Map<string, RunEvent[]>>();

export function rememberEvents(deps: Deps, runId: string, events: RunEvent[]): void {
  if (events.length === 0) return;
  let recent = recentByDeps.get(deps);
  if (!recent) recentByDeps.set(deps, (recent = new Map()));
  const kept = recent.get(runId) ?? [];
  recent.delete(runId); // re-inserted last: the map's order is the runs' recency
  const last = kept.at(-1);
  const next = last && events[0]!.seq === last.seq + 1 ? [...kept, ...events].slice(-RECENT_PER_RUN) : events.slice(-RECENT_PER_RUN);
  recent.set(runId, next);
  if (recent.size > RECENT_RUNS) recent.delete(recent.keys().next().value!);
}

function recentAfter(deps: Deps, runId: string, afterSeq: number): RunEvent[] | null {
  const kept = recentByDeps.get(deps)?.get(runId);
  if (!kept || kept.length === 0) return null;
  const start = afterSeq + 1 - kept[0]!.seq;
  if (start < 0 || start >= kept.length) return null;
  return kept.slice(start, start + PAGE);
}

/**
 * Reads in flight, by run and cursor. Every live follower of a run sits at the same cursor
 * and is woken by the same notification, so one query serves them all instead of one each.
 */
const inFlight = new WeakMap<Deps, Map<string, Promise<RunEvent[]>>>();

function readRunEvents(deps: Deps, runId: string, afterSeq: number): Promise<RunEvent[]> {
  const recent = recentAfter(deps, runId, afterSeq);
  if (recent) return Promise.resolve(recent);
  let reads = inFlight.get(deps);
  if (!reads) inFlight.set(deps, (reads = new Map()));
  const key = `${runId}:${afterSeq}`;
  const pending = reads.get(key);
  if (pending) return pending;
  const read = deps.db.queue.eventsAfter(runId, afterSeq, PAGE).finally(() => reads.delete(key));
  reads.set(key, read);
  return read;
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
 * right after it (exact on both databases: see QueueSql.boardEventsAfter), and card edits
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
      const snapshot = await deps.db.queue.boardSnapshot(boardId, BOARD_TAIL);
      yield { change: { kind: "snapshot", runs: snapshot.runs }, cursor: snapshot.from };
      for (const { cursor: after, ...event } of snapshot.tail) yield { change: { kind: "run", ...event }, cursor: after };
      cursor = snapshot.cursor;
    } else cursor = from;
    while (!signal.aborted) {
      if (cardsChanged) {
        cardsChanged = false;
        yield { change: { kind: "cards" }, cursor: null };
      }
      const page = await deps.db.queue.boardEventsAfter(boardId, cursor, PAGE).catch((err: unknown) => {
        throw err instanceof InvalidCursorError ? badRequest(`lastEventId: ${err.message}`, "lastEventId") : err;
      });
      for (const { cursor: after, ...event } of page.events) yield { change: { kind: "run", ...event }, cursor: after };
      cursor = page.cursor;
      if (page.events.length === PAGE || cardsChanged) continue;
      await waiter.wait(POLL_MS, signal);
    }
  } finally {
    stopCards();
    waiter.close();
  }
}
