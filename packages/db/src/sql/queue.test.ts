import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testProviders, type TestDatabase } from "@agentboard/testkit";
import { createDatabase, type Database } from "../client.js";
import { migrate } from "../migrate.js";
import type { ClaimantLease } from "./types.js";

/** The queue's group claim: one statement serves several claimants of one scope. */
describe.each(testProviders)("claimNext for several claimants on %s", (provider) => {
  let tdb: TestDatabase;
  let db: Database;
  let scope: { workspaceId: string; boardId: string; cardId: string; projectId: string };
  let runners: string[];

  beforeAll(async () => {
    tdb = await createTestDatabase(provider);
    await migrate(tdb.config);
    db = createDatabase(tdb.config);
    const p = db.prisma;
    const ws = await p.workspace.create({ data: { name: "W", slug: "w" } });
    const board = await p.board.create({ data: { workspaceId: ws.id, name: "B" } });
    const project = await p.project.create({ data: { workspaceId: ws.id, name: "P", repoPath: "/r" } });
    const card = await p.card.create({ data: { boardId: board.id, projectId: project.id, title: "T" } });
    scope = { workspaceId: ws.id, boardId: board.id, cardId: card.id, projectId: project.id };
    runners = await Promise.all(["a", "b", "c", "d"].map(async (name) => (await p.runner.create({ data: { workspaceId: ws.id, name } })).id));
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  const claimant = (runnerId: string, i: number): ClaimantLease => ({
    runnerId,
    leaseToken: `lease-${runnerId}-${i}`,
    event: { actor: `runner:${runnerId}`, payload: { runnerId } },
  });

  it("pairs claimants in arrival order with runs in claim order, each with its own lease and event; the rest get null", async () => {
    const base = Date.UTC(2026, 0, 1);
    const mk = (branch: string, priority: number, ms: number) =>
      db.prisma.run.create({ data: { ...scope, prompt: "p", engine: "command", branch, baseBranch: "main", priority, createdAt: new Date(base + ms) } });
    const old = await mk("old", 0, 0);
    const urgent = await mk("urgent", 5, 2);
    const young = await mk("young", 0, 1);

    const claimants = runners.map((r, i) => claimant(r, i));
    const got = await db.sql.claimNext({ workspaceId: scope.workspaceId, boardId: null, labels: [], leaseMs: 30_000, claimants });

    expect(got.map((c) => c?.run.id ?? null)).toEqual([urgent.id, old.id, young.id, null]);
    for (const [i, c] of got.entries()) {
      if (!c) continue;
      expect(c.run).toMatchObject({ status: "claimed", runnerId: runners[i], attempt: 1, eventSeq: 1 });
      // The lease is the claimant's, and the run as returned does not carry it (only the claim's answer does).
      expect("leaseToken" in c.run).toBe(false);
      expect(await db.prisma.run.findUniqueOrThrow({ where: { id: c.run.id }, select: { leaseToken: true } })).toEqual({
        leaseToken: claimants[i]!.leaseToken,
      });
      expect(c.project.id).toBe(scope.projectId);
      const events = await db.prisma.runEvent.findMany({ where: { runId: c.run.id } });
      expect(events).toEqual([expect.objectContaining({ seq: 1, type: "run.claimed", actor: claimants[i]!.event.actor, payload: { runnerId: runners[i] } })]);
    }
  });

  it("concurrent group claims never hand one run to two claimants", async () => {
    await db.prisma.run.createMany({
      data: Array.from({ length: 120 }, (_, i) => ({ ...scope, prompt: "p", engine: "command" as const, branch: `many-${i}`, baseBranch: "main" })),
    });
    const rounds = await Promise.all(
      Array.from({ length: 8 }, (_, g) =>
        db.sql.claimNext({
          workspaceId: scope.workspaceId,
          boardId: scope.boardId,
          labels: [],
          leaseMs: 30_000,
          claimants: runners.map((r, i) => claimant(r, g * 10 + i)),
        }),
      ),
    );
    const ids = rounds.flat().flatMap((c) => (c ? [c.run.id] : []));
    expect(ids.length).toBe(32);
    expect(new Set(ids).size).toBe(32);
  });

  it("gives each claimant its runner's own follow-ups first, in claim order and scope; another runner's only after the grace", async () => {
    await db.prisma.run.updateMany({ where: { status: "queued" }, data: { status: "cancelled" } });
    const base = Date.now() - 1000;
    const [a, b, c] = runners as [string, string, string];
    const mk = (branch: string, preferredRunnerId: string | null, priority: number, ms: number, extra: { status?: "claimed"; boardId?: string } = {}) =>
      db.prisma.run.create({
        data: { ...scope, ...extra, prompt: "p", engine: "command", branch, baseBranch: "main", priority, preferredRunnerId, createdAt: new Date(base + ms) },
      });
    const otherBoard = await db.prisma.board.create({ data: { workspaceId: scope.workspaceId, name: "other" } });
    const older = await mk("pref-older", a, 0, 0);
    const urgent = await mk("pref-urgent", a, 3, 5);
    await mk("pref-claimed", a, 9, 1, { status: "claimed" });
    const ofB = await mk("pref-of-b", b, 9, 2);
    const none = await mk("pref-none", null, 1, 3);
    const elsewhere = await mk("pref-other-board", a, 0, 4, { boardId: otherBoard.id });
    const claim = (boardId: string | null, who: ClaimantLease[]) =>
      db.sql.claimNext({ workspaceId: scope.workspaceId, boardId, labels: [], leaseMs: 30_000, claimants: who });

    // Two claimants of runner a and one of c on this board: a's two follow-ups go to a's
    // claimants, highest priority first; c gets the only run nobody waits for (b's is b's
    // for the grace, whatever its priority).
    const first = await claim(scope.boardId, [claimant(a, 1), claimant(c, 2), claimant(a, 3)]);
    expect(first.map((x) => x?.run.id)).toEqual([urgent.id, none.id, older.id]);
    expect(first.map((x) => x?.run.runnerId)).toEqual([a, c, a]);
    // Nothing else is claimable on this board but for b; the other board's follow-up is a's.
    expect(await claim(scope.boardId, [claimant(a, 4), claimant(c, 5)])).toEqual([null, null]);
    expect((await claim(scope.boardId, [claimant(b, 6)]))[0]?.run.id).toBe(ofB.id);
    expect((await claim(null, [claimant(c, 7), claimant(a, 8)])).map((x) => x?.run.id ?? null)).toEqual([null, elsewhere.id]);
    await db.prisma.run.updateMany({ where: { branch: { startsWith: "pref-" } }, data: { status: "cancelled" } });
  });

  it("appendEvents numbers events gap-free under the lease, and eventsAfter reads them as the client does", async () => {
    const run = await db.prisma.run.create({
      data: { ...scope, prompt: "p", engine: "command", branch: "events", baseBranch: "main", status: "running", leaseToken: "held", eventSeq: 2 },
    });
    const payloads = [{ text: "é ✓", n: 1.5, nested: { list: [1, null, "x"] } }, {}, { quote: "\"'\\" }];
    const done = await db.sql.appendEvents({
      runId: run.id,
      leaseToken: "held",
      actor: "runner:a",
      events: payloads.map((payload, i) => ({ type: `t.${i}`, payload })),
    });
    expect(done).toEqual({
      lastSeq: 5,
      boardId: scope.boardId,
      // The events as stored, as the client reads them.
      events: await db.prisma.runEvent.findMany({ where: { runId: run.id }, orderBy: { seq: "asc" } }),
    });
    expect(await db.sql.appendEvents({ runId: run.id, leaseToken: "stale", actor: "runner:a", events: [{ type: "t.x", payload: {} }] })).toBeNull();

    const viaClient = await db.prisma.runEvent.findMany({ where: { runId: run.id, seq: { gt: 3 } }, orderBy: { seq: "asc" } });
    expect(await db.sql.eventsAfter(run.id, 3, 500, 1024 * 1024)).toEqual({ events: viaClient, more: false });
    expect(viaClient.map((e) => [e.seq, e.type, e.payload])).toEqual([
      [4, "t.1", {}],
      [5, "t.2", payloads[2]],
    ]);
    expect(await db.sql.eventsAfter(run.id, 2, 1, 1024 * 1024)).toEqual({ events: [expect.objectContaining({ seq: 3, payload: payloads[0] })], more: true });
    // A page ends before its payloads pass the byte budget, but always holds one event.
    expect(await db.sql.eventsAfter(run.id, 0, 500, 1)).toEqual({ events: [expect.objectContaining({ seq: 3 })], more: true });
    expect(await db.sql.eventsAfter(run.id, 5, 500, 1)).toEqual({ events: [], more: false });
  });

  it("an append waits for a transaction the client holds open, then lands", async () => {
    const run = await db.prisma.run.create({
      data: { ...scope, prompt: "p", engine: "command", branch: "busy", baseBranch: "main", status: "running", leaseToken: "held" },
    });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    let appended = false;
    const tx = db.prisma.$transaction(
      async (t) => {
        await t.card.update({ where: { id: scope.cardId }, data: { title: "held open" } });
        opened();
        await held;
      },
      { timeout: 10_000 },
    );
    await open;
    const append = db.sql.appendEvents({ runId: run.id, leaseToken: "held", actor: "runner:a", events: [{ type: "t", payload: {} }] }).then((r) => {
      appended = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 200));
    // PostgreSQL appends alongside (different rows); SQLite has one writer at a time.
    if (provider === "sqlite") expect(appended).toBe(false);
    release();
    await tx;
    expect(await append).toMatchObject({ lastSeq: 1, boardId: scope.boardId, events: [expect.objectContaining({ seq: 1, type: "t" })] });
  });
});
