import type { RunEvent, RunStatus } from "@agentboard/db";
import { untilStopped, type Deps } from "./deps.js";
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
 * Reads in flight, by run and cursor. Every live follower of a run sits at the same cursor
 * and is woken by the same notification, so one query serves them all instead of one each.
 */
const inFlight = new WeakMap<Deps, Map<string, Promise<RunEvent[]>>>();

function readRunEvents(deps: Deps, runId: string, afterSeq: number): Promise<RunEvent[]> {
  let reads = inFlight.get(deps);
  if (!reads) inFlight.set(deps, (reads = new Map()));
  const key = `${runId}:${afterSeq}`;
  const pending = reads.get(key);
  if (pending) return pending;
  const read = deps.db.queue.eventsAfter(runId, afterSeq, PAGE).finally(() => reads.delete(key));
  reads.set(key, read);
  return read;
}

export interface BoardRunChange {
  kind: "run";
  id: number;
  runId: string;
  cardId: string;
  type: string;
  actor: string;
  createdAt: Date;
  /** The run's status when the event was read (it may have moved on since the event). */
  status: RunStatus;
}

/**
 * Cards were created, edited, moved or deleted: re-read the card list. These changes are
 * not run events, so they have no id to resume from; a client that reconnects re-reads
 * the cards anyway.
 */
export interface BoardCardsChange {
  kind: "cards";
}

export type BoardChange = BoardRunChange | BoardCardsChange;

/**
 * Changes of a board, for live boards: its runs' events (backfilled and resumable) and
 * card edits (live only). Global event ids can commit out of order across concurrent
 * transactions, so each read looks back over a short window and de-duplicates by id,
 * rather than trusting `id > last` alone.
 */
export async function* followBoardChanges(deps: Deps, boardId: string, afterId: number, requestSignal?: AbortSignal): AsyncGenerator<BoardChange> {
  const signal = untilStopped(deps, requestSignal);
  let cardsChanged = false;
  // Subscribed before the first read, like the waiter, so no change slips in between.
  const stopCards = deps.notifier.subscribe(topics.cards(boardId), () => {
    cardsChanged = true;
  });
  const waiter = createWaiter(deps.notifier, [topics.board(boardId), topics.cards(boardId)]);
  const seen = new Set<number>();
  let cursor = afterId;
  const LOOKBACK = 200;
  try {
    while (!signal.aborted) {
      if (cardsChanged) {
        cardsChanged = false;
        yield { kind: "cards" };
      }
      const floor = Math.max(afterId, cursor - LOOKBACK);
      const rows = await deps.db.prisma.runEvent.findMany({
        where: { id: { gt: floor }, run: { boardId } },
        orderBy: { id: "asc" },
        take: PAGE,
        select: { id: true, runId: true, type: true, actor: true, createdAt: true, run: { select: { cardId: true, status: true } } },
      });
      let fresh = 0;
      for (const r of rows) {
        if (seen.has(r.id)) continue;
        seen.add(r.id);
        fresh++;
        if (r.id > cursor) cursor = r.id;
        yield { kind: "run", id: r.id, runId: r.runId, cardId: r.run.cardId, type: r.type, actor: r.actor, createdAt: r.createdAt, status: r.run.status };
      }
      for (const id of seen) if (id <= cursor - LOOKBACK) seen.delete(id);
      if (rows.length === PAGE && fresh > 0) continue;
      if (cardsChanged) continue;
      await waiter.wait(POLL_MS, signal);
    }
  } finally {
    stopCards();
    waiter.close();
  }
}
