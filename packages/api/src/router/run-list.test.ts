import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";
import { failure } from "../testing/failures.js";

/** The workspace's runs page: every run, filtered and paged by the server. */
describe.each(testProviders)("run.list filters on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
  });
  afterAll(() => api.close());

  it("filters by board, engine and requester, pages newest first, and names each run's card", async () => {
    const ann = (await api.person("ann@runs.test", { [seed.workspace.id]: "member" })).caller;
    const second = await api.admin.board.create({ workspaceId: seed.workspace.id, name: "Second" });
    const elsewhere = await api.admin.card.create({ boardId: second.id, projectId: seed.project.id, title: "On the second board" });
    const byAdmin = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    const byAnn = [];
    for (let i = 0; i < 3; i++) byAnn.push(await ann.run.create({ cardId: elsewhere.id, engine: "anthropic", model: "claude-haiku-4-5" }));

    const all = await ann.run.list({ workspaceId: seed.workspace.id });
    expect(all.items.map((r) => r.id)).toEqual(
      [...byAnn]
        .reverse()
        .map((r) => r.id)
        .concat(byAdmin.id),
    );
    expect(all.items.at(-1)!.card).toEqual({ title: "Fix the bug" });

    const onSecond = await ann.run.list({ workspaceId: seed.workspace.id, boardId: second.id });
    expect(onSecond.items.map((r) => r.card.title)).toEqual(["On the second board", "On the second board", "On the second board"]);
    expect((await ann.run.list({ workspaceId: seed.workspace.id, engine: "command" })).items.map((r) => r.id)).toEqual([byAdmin.id]);
    const mine = await ann.run.list({ workspaceId: seed.workspace.id, createdBy: "user:ann@runs.test", limit: 2 });
    expect(mine.items.map((r) => r.id)).toEqual([byAnn[2]!.id, byAnn[1]!.id]);
    const rest = await ann.run.list({ workspaceId: seed.workspace.id, createdBy: "user:ann@runs.test", limit: 2, cursor: mine.nextCursor! });
    expect(rest).toMatchObject({ items: [{ id: byAnn[0]!.id }], nextCursor: null });
    expect((await ann.run.list({ workspaceId: seed.workspace.id, createdBy: "user:nobody@runs.test" })).items).toEqual([]);
    // @ts-expect-error: an engine that does not exist
    expect(await failure(ann.run.list({ workspaceId: seed.workspace.id, engine: "gpt" }))).toMatchObject({ code: "BAD_REQUEST", field: "engine" });
  });
});
