import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testProviders, type TestDatabase } from "@agentboard/testkit";
import { createDatabase, type Database } from "../client.js";
import { migrate } from "../migrate.js";
import { InvalidCursorError, type BoardEvent } from "./types.js";

/** Board cursors: a board's run events in commit order, resumable exactly after any one. */
describe.each(testProviders)("board cursors on %s", (provider) => {
  let tdb: TestDatabase;
  let db: Database;
  let scope: { workspaceId: string; projectId: string };

  beforeAll(async () => {
    tdb = await createTestDatabase(provider);
    await migrate(tdb.config);
    db = createDatabase(tdb.config);
    const ws = await db.prisma.workspace.create({ data: { name: "W", slug: "w" } });
    const project = await db.prisma.project.create({ data: { workspaceId: ws.id, name: "P", repoPath: "/r" } });
    scope = { workspaceId: ws.id, projectId: project.id };
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  /** A board with a card and a running run on it, whose lease is "held". */
  async function boardWithRun(name: string) {
    const board = await db.prisma.board.create({ data: { workspaceId: scope.workspaceId, name } });
    const card = await db.prisma.card.create({ data: { boardId: board.id, projectId: scope.projectId, title: name } });
    const run = await db.prisma.run.create({
      data: {
        ...scope,
        boardId: board.id,
        cardId: card.id,
        prompt: "p",
        engine: "command",
        branch: `b-${name}`,
        baseBranch: "main",
        status: "running",
        leaseToken: "held",
      },
    });
    const append = (...types: string[]) =>
      db.sql.appendEvents({ runId: run.id, leaseToken: "held", actor: "runner:a", events: types.map((type) => ({ type, payload: {} })) });
    return { board, card, run, append };
  }

  /** Reads everything after `cursor`, `limit` at a time. */
  async function readAll(boardId: string, cursor: string, limit: number): Promise<{ events: BoardEvent[]; cursor: string }> {
    const events: BoardEvent[] = [];
    for (;;) {
      const page = await db.sql.boardEventsAfter(boardId, cursor, limit);
      events.push(...page.events);
      cursor = page.cursor;
      if (page.events.length < limit) return { events, cursor };
    }
  }

  it("pages a board's events in order; each event's cursor resumes right after it; the current cursor skips the past", async () => {
    const a = await boardWithRun("a");
    const other = await boardWithRun("other");
    await a.append("a1", "a2", "a3");
    await other.append("o1", "o2");
    const now = await db.sql.boardCursor();
    await a.append("a4", "a5");

    const all = await readAll(a.board.id, "0", 2);
    expect(all.events.map((e) => e.type)).toEqual(["a1", "a2", "a3", "a4", "a5"]);
    expect(all.events[0]).toMatchObject({ runId: a.run.id, cardId: a.card.id, status: "running", actor: "runner:a" });
    expect(all.events[0]!.createdAt).toBeInstanceOf(Date);
    for (const [i, e] of all.events.entries()) {
      const rest = await readAll(a.board.id, e.cursor, 3);
      expect(
        rest.events.map((r) => r.type),
        `after ${e.type}`,
      ).toEqual(all.events.slice(i + 1).map((r) => r.type));
    }
    expect((await readAll(a.board.id, now, 10)).events.map((e) => e.type)).toEqual(["a4", "a5"]);

    // Nothing new: the end cursor reads nothing, until something commits.
    expect((await db.sql.boardEventsAfter(a.board.id, all.cursor, 10)).events).toEqual([]);
    await a.append("a6");
    expect((await db.sql.boardEventsAfter(a.board.id, all.cursor, 10)).events.map((e) => e.type)).toEqual(["a6"]);

    // A plain event id is a cursor too: everything after it.
    const afterA3 = await readAll(a.board.id, String(all.events[2]!.id), 10);
    expect(afterA3.events.map((e) => e.type)).toEqual(["a4", "a5", "a6"]);
  });

  it("refuses a cursor that this database did not make", async () => {
    const { board } = await boardWithRun("bad");
    const bad = ["", "abc", "-1", "1.5", "1~2", "1:1:~1:1:", "1:1:~1:1:~x", provider === "sqlite" ? "1:1:" : "12:10:"];
    for (const cursor of bad) {
      await expect(db.sql.boardEventsAfter(board.id, cursor, 10), JSON.stringify(cursor)).rejects.toBeInstanceOf(InvalidCursorError);
    }
  });

  // Out-of-order commits need two writers at once: SQLite has one.
  it.runIf(provider === "postgresql")("an event that commits after a later id was read is still delivered, once", async () => {
    const { board, run: slowRun } = await boardWithRun("late");
    const fast = await boardWithRun("late-fast");
    await db.prisma.run.update({ where: { id: fast.run.id }, data: { boardId: board.id } });
    const start = await db.sql.boardCursor();

    const conn = new pg.Client({ connectionString: tdb.config.provider === "postgresql" ? tdb.config.url : "" });
    await conn.connect();
    try {
      await conn.query("BEGIN");
      const { rows } = await conn.query<{ id: number }>(
        `INSERT INTO run_events (run_id, seq, type, actor, payload, created_at) VALUES ($1, 100, 'slow', 'runner:a', '{}', now()) RETURNING id`,
        [slowRun.id],
      );
      const slowId = rows[0]!.id;
      const appended = await fast.append("fast");
      // The premise: the later id commits first.
      expect(appended!.events[0]!.id).toBeGreaterThan(slowId);

      const first = await db.sql.boardEventsAfter(board.id, start, 10);
      expect(first.events.map((e) => e.type)).toEqual(["fast"]);
      await conn.query("COMMIT");

      // From the event's own cursor and from the page's: the late one, and only it.
      expect((await db.sql.boardEventsAfter(board.id, first.events[0]!.cursor, 10)).events.map((e) => e.type)).toEqual(["slow"]);
      const second = await db.sql.boardEventsAfter(board.id, first.cursor, 10);
      expect(second.events.map((e) => [e.type, e.id])).toEqual([["slow", slowId]]);
      expect((await db.sql.boardEventsAfter(board.id, second.cursor, 10)).events).toEqual([]);
      // What an id cursor would have done: "after the fast one" never sees the slow one.
      expect((await db.sql.boardEventsAfter(board.id, String(appended!.events[0]!.id), 10)).events).toEqual([]);
    } finally {
      await conn.end();
    }
  });
});
