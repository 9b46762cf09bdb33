import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, seedRepo, startTestApi, type TestApi } from "../testing/harness.js";
import { failure } from "../testing/failures.js";

/** The board's filters (label, latest run status, project, person), applied by the database. */
describe.each(testProviders)("card.search filters on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let ann: Awaited<ReturnType<TestApi["person"]>>;
  let bob: Awaited<ReturnType<TestApi["person"]>>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    ann = await api.person("ann@filters.test", { [seed.workspace.id]: "member" });
    bob = await api.person("bob@filters.test", { [seed.workspace.id]: "member" });
    const web = await api.admin.project.create({ workspaceId: seed.workspace.id, name: "web", repoPath: seedRepo(api, "web"), baseBranch: "main" });
    const card = (title: string, labels: string[], projectId = seed.project.id) =>
      api.admin.card.create({ boardId: seed.board.id, projectId, title, labels }).then((c) => {
        ids[title] = c.id;
        return c;
      });
    // "Fix the bug" (seeded): no labels, app, never run.
    ids["Fix the bug"] = seed.card.id;
    const login = await card("Login page", ["ui", "auth"], web.id);
    const parser = await card("Parser crash", ["bug"]);
    const theme = await card("Dark theme", ["ui"], web.id);
    // Ann asks for the login page's run (queued); Bob for the parser's, then cancels it; Ann
    // ran the theme once (cancelled) and Bob ran it last (queued): its status is Bob's run's.
    await ann.caller.run.create({ cardId: login.id, engine: "command", command: "true" });
    const bobs = await bob.caller.run.create({ cardId: parser.id, engine: "command", command: "true" });
    await bob.caller.run.cancel({ runId: bobs.id });
    const annsTheme = await ann.caller.run.create({ cardId: theme.id, engine: "command", command: "true" });
    await ann.caller.run.cancel({ runId: annsTheme.id });
    await bob.caller.run.create({ cardId: theme.id, engine: "command", command: "true" });
    // Many cards that match nothing below: the filter is the database's, not a page's.
    await api.core.deps.db.prisma.card.createMany({
      data: Array.from({ length: 150 }, (_, i) => ({
        boardId: seed.board.id,
        projectId: seed.project.id,
        title: `Filler ${i}`,
        labels: ["filler"],
        position: i,
      })),
    });
  });
  afterAll(() => api.close());

  const titles = async (input: Omit<Parameters<TestApi["admin"]["card"]["search"]>[0], "boardId">) =>
    (await ann.caller.card.search({ boardId: seed.board.id, limit: 200, ...input })).map((c) => c.title).sort();

  it("narrows by label: every chosen label, exactly as written", async () => {
    expect(await titles({ labels: ["ui"] })).toEqual(["Dark theme", "Login page"]);
    expect(await titles({ labels: ["ui", "auth"] })).toEqual(["Login page"]);
    expect(await titles({ labels: ["UI"] })).toEqual([]);
    expect(await titles({ labels: ["bug", "ui"] })).toEqual([]);
  });

  it("narrows by the latest run's status, `none` for a card never run", async () => {
    expect(await titles({ statuses: ["queued"] })).toEqual(["Dark theme", "Login page"]);
    expect(await titles({ statuses: ["cancelled"] })).toEqual(["Parser crash"]);
    expect(await titles({ statuses: ["cancelled", "none"], labels: ["bug"] })).toEqual(["Parser crash"]);
    const never = await titles({ statuses: ["none"] });
    expect(never).toHaveLength(151);
    expect(never).toContain("Fix the bug");
    expect(await titles({ statuses: ["running"] })).toEqual([]);
  });

  it("narrows by project", async () => {
    const [, web] = await api.admin.project.list({ workspaceId: seed.workspace.id });
    expect(await titles({ projectId: web!.id })).toEqual(["Dark theme", "Login page"]);
    expect(await titles({ projectId: seed.project.id, query: "crash" })).toEqual(["Parser crash"]);
  });

  it("narrows by person: whoever asked for any of the card's runs", async () => {
    expect(await titles({ personId: ann.userId })).toEqual(["Dark theme", "Login page"]);
    expect(await titles({ personId: bob.userId })).toEqual(["Dark theme", "Parser crash"]);
    expect(await titles({ personId: bob.userId, statuses: ["cancelled"] })).toEqual(["Parser crash"]);
    expect(await titles({ personId: bob.userId, labels: ["auth"] })).toEqual([]);
    expect(await titles({ personId: "nobody" })).toEqual([]);
  });

  it("combines with the words and archived cards, and refuses a search of nothing", async () => {
    expect(await titles({ query: "theme", personId: ann.userId })).toEqual(["Dark theme"]);
    await api.admin.card.archive({ cardId: ids["Login page"]! });
    expect(await titles({ labels: ["auth"] })).toEqual([]);
    expect(await titles({ labels: ["auth"], archived: "include" })).toEqual(["Login page"]);
    await api.admin.card.restore({ cardId: ids["Login page"]! });
    expect(await failure(ann.caller.card.search({ boardId: seed.board.id }))).toMatchObject({ code: "BAD_REQUEST", field: "query" });
    expect(await failure(ann.caller.card.search({ boardId: seed.board.id, labels: ["no spaces"] }))).toMatchObject({ code: "BAD_REQUEST", field: "labels.0" });
    // @ts-expect-error: not a status
    expect(await failure(ann.caller.card.search({ boardId: seed.board.id, statuses: ["stuck"] }))).toMatchObject({ code: "BAD_REQUEST", field: "statuses.0" });
  });
});
