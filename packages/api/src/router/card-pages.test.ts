import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";

/** A big board read a column page at a time, and searched by the server. */
describe.each(testProviders)("card.listColumn and card.search on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  const N = 1_200;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    const words = ["Parser", "board", "RUNNER", "merge gate", "login"];
    await api.core.deps.db.prisma.card.createMany({
      data: Array.from({ length: N }, (_, i) => ({
        boardId: seed.board.id,
        projectId: seed.project.id,
        column: i % 2 ? ("todo" as const) : ("done" as const),
        // Ties in position are ordered by id.
        position: Math.floor(i / 4),
        title: `Card ${i}: fix the ${words[i % 5]}`,
        description: i % 100 === 0 ? "needs a Flamegraph" : "",
      })),
    });
  });
  afterAll(() => api.close());

  const bad = (p: Promise<unknown>) =>
    p.then(
      () => "ok",
      (e: unknown) => (e instanceof TRPCError ? e.code : "other"),
    );

  it("pages a column in board order, every card once", async () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await api.admin.card.listColumn({ boardId: seed.board.id, column: "todo", after, limit: 250 });
      seen.push(...page.cards.map((c) => c.id));
      expect(page.cards.every((c) => c.column === "todo" && Array.isArray(c.runs))).toBe(true);
      expect(page.total).toBe(N / 2);
      pages++;
      if (!page.next) break;
      after = page.next;
    }
    expect(pages).toBe(3);
    const all = await api.core.deps.db.prisma.card.findMany({
      where: { boardId: seed.board.id, column: "todo" },
      orderBy: [{ position: "asc" }, { id: "asc" }],
      select: { id: true },
    });
    expect(seen).toEqual(all.map((c) => c.id));
    expect(seen).toHaveLength(N / 2);
  });

  it("refuses a cursor that is not a card of the column", async () => {
    const done = await api.admin.card.listColumn({ boardId: seed.board.id, column: "done", limit: 1 });
    expect(await bad(api.admin.card.listColumn({ boardId: seed.board.id, column: "todo", after: done.cards[0]!.id }))).toBe("BAD_REQUEST");
    expect(await bad(api.admin.card.listColumn({ boardId: seed.board.id, column: "todo", limit: 501 }))).toBe("BAD_REQUEST");
  });

  it("finds cards holding every word, in title or description, whatever the case", async () => {
    const runner = await api.admin.card.search({ boardId: seed.board.id, query: "runner", limit: 200 });
    expect(runner).toHaveLength(200);
    expect(runner.every((c) => c.title.endsWith("RUNNER"))).toBe(true);
    const one = await api.admin.card.search({ boardId: seed.board.id, query: "card 1038: MERGE" });
    expect(one.map((c) => c.title)).toEqual(["Card 1038: fix the merge gate"]);
    const described = await api.admin.card.search({ boardId: seed.board.id, query: "flamegraph" });
    expect(described).toHaveLength(N / 100);
    expect(await api.admin.card.search({ boardId: seed.board.id, query: "zebra" })).toEqual([]);
    // LIKE's wildcards are plain characters here.
    expect(await api.admin.card.search({ boardId: seed.board.id, query: "%" })).toEqual([]);
  });

  it("leaves archived cards out unless asked, and finds only them when asked", async () => {
    const [target] = await api.admin.card.search({ boardId: seed.board.id, query: "card 1039:" });
    await api.admin.card.archive({ cardId: target!.id });
    try {
      expect(await api.admin.card.search({ boardId: seed.board.id, query: "card 1039:" })).toEqual([]);
      const included = await api.admin.card.search({ boardId: seed.board.id, query: "card 1039:", archived: "include" });
      expect(included.map((c) => [c.id, c.archivedAt instanceof Date])).toEqual([[target!.id, true]]);
      // Only archived ones: the 1,200 others hold "card" too.
      expect((await api.admin.card.search({ boardId: seed.board.id, query: "card", archived: "only" })).map((c) => c.id)).toEqual([target!.id]);
      expect(await api.admin.card.search({ boardId: seed.board.id, query: "card 1038:", archived: "only" })).toEqual([]);
      expect(await bad(api.admin.card.search({ boardId: seed.board.id, query: "card", archived: "all" as "include" }))).toBe("BAD_REQUEST");
    } finally {
      await api.admin.card.restore({ cardId: target!.id });
    }
    expect(await api.admin.card.search({ boardId: seed.board.id, query: "card 1039:" })).toHaveLength(1);
  });

  it("is authorized like the board", async () => {
    const other = await seedBoard(api, "other");
    const outsider = await api.as("member", other.workspace.id);
    expect(await bad(outsider.card.search({ boardId: seed.board.id, query: "card" }))).toBe("NOT_FOUND");
    expect(await bad(outsider.card.listColumn({ boardId: seed.board.id, column: "todo" }))).toBe("NOT_FOUND");
    expect(await bad(api.anonymous.card.search({ boardId: seed.board.id, query: "card" }))).toBe("UNAUTHORIZED");
    const runner = await api.as("runner", seed.workspace.id);
    expect(await bad(runner.card.search({ boardId: seed.board.id, query: "card" }))).toBe("FORBIDDEN");
    const viewer = await api.as("viewer", seed.workspace.id);
    expect(await viewer.card.search({ boardId: seed.board.id, query: "card 1038:" })).toHaveLength(1);
    expect(await bad(api.admin.card.search({ boardId: seed.board.id, query: "   " }))).toBe("BAD_REQUEST");
  });
});
