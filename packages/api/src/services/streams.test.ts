import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { type BoardRunChange, followBoardChanges } from "./streams.js";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";
import { topics } from "../infra/notifier.js";

type Followed = { change: BoardRunChange; cursor: string };

/**
 * Followers of one board share their reads: woken by the same append at the same cursor,
 * one query serves them all and they get the same change objects (which the SSE writer then
 * serializes once), while each still gets every change once, in order, from its own cursor.
 */
describe.each(testProviders)("board followers on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let append: (n: number, from: number) => Promise<unknown>;
  /** Wakes the board's followers together, as a run's status change does (an append alone wakes the run's followers only). */
  const wakeBoard = () => api.core.deps.notifier.publish(topics.board(seed.board.id));

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    const run = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    const claim = await api.admin.run.claim({ workspaceId: seed.workspace.id, runId: run.id });
    await api.admin.run.start({ runId: run.id, leaseToken: claim!.leaseToken });
    append = (n, from) =>
      api.admin.run.appendEvents({
        runId: run.id,
        leaseToken: claim!.leaseToken,
        events: Array.from({ length: n }, (_, i) => ({ type: "agent.message", payload: { n: from + i } })),
      });
  });
  afterAll(() => api.close());

  /** Follows the board from `cursor` until `count` run changes arrived. */
  function follow(cursor: string, count: number, signal: AbortSignal) {
    const got: Followed[] = [];
    return (async () => {
      for await (const item of followBoardChanges(api.core.deps, seed.board.id, cursor, signal)) {
        if (item.change.kind !== "run" || item.cursor === null) continue;
        got.push({ change: item.change, cursor: item.cursor });
        if (got.length === count) return got;
      }
      return got;
    })();
  }

  it("followers at one cursor get every change once, in order, as the same objects", async () => {
    const stop = new AbortController();
    const { lastEventId } = await api.admin.board.cursor({ boardId: seed.board.id });
    const followers = Array.from({ length: 4 }, () => follow(lastEventId, 30, stop.signal));
    // Let them reach their wait before the appends wake them together.
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 30; i += 10) {
      await append(10, i);
      await wakeBoard();
    }
    const seen = await Promise.all(followers).finally(() => stop.abort());

    for (const items of seen) {
      expect(items).toHaveLength(30);
      expect(items.map((item) => item.change.type)).toEqual(Array.from({ length: 30 }, () => "agent.message"));
      expect(new Set(items.map((item) => item.change.id)).size).toBe(30);
    }
    // The same cursors in the same order for all, and the very same change objects.
    const first = seen[0]!;
    for (const other of seen.slice(1)) {
      expect(other.map((item) => item.cursor)).toEqual(first.map((item) => item.cursor));
      expect(other.every((item, i) => item.change === first[i]!.change)).toBe(true);
    }
  });

  it("a follower behind the others reads its own way and still gets everything once", async () => {
    const stop = new AbortController();
    const behind = (await api.admin.board.cursor({ boardId: seed.board.id })).lastEventId;
    await append(5, 100);
    const ahead = (await api.admin.board.cursor({ boardId: seed.board.id })).lastEventId;
    const late = follow(behind, 10, stop.signal);
    const current = follow(ahead, 5, stop.signal);
    await new Promise((r) => setTimeout(r, 100));
    await append(5, 105);
    await wakeBoard();
    const [lateItems, currentItems] = await Promise.all([late, current]).finally(() => stop.abort());
    expect(lateItems).toHaveLength(10);
    expect(new Set(lateItems.map((item) => item.change.id)).size).toBe(10);
    // The last five of the late follower are the current follower's five. (Compared by event
    // id: two reads of the same events may spell their cursors differently — on PostgreSQL a
    // cursor carries the transactions in flight when it was read.)
    expect(lateItems.slice(5).map((item) => item.change.id)).toEqual(currentItems.map((item) => item.change.id));
  });
});
