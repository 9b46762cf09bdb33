import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, seedRepo, startTestApi, type TestApi } from "../testing/harness.js";

/** The add-card form offers the board's last-used project: board.byId names it. */
describe.each(testProviders)("board.byId lastProjectId on %s", (provider) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(provider);
  });
  afterAll(() => api.close());

  it("is the project of the board's most recent card, not the first project ever made", async () => {
    const seed = await seedBoard(api);
    const other = await api.admin.board.create({ workspaceId: seed.workspace.id, name: "Other" });
    const empty = await api.admin.board.byId({ boardId: other.id });
    expect(empty.lastProjectId).toBeNull();
    // The seeded card is in the first project; the board's newest card in the second.
    expect((await api.admin.board.byId({ boardId: seed.board.id })).lastProjectId).toBe(seed.project.id);
    const web = await api.admin.project.create({ workspaceId: seed.workspace.id, name: "web", repoPath: seedRepo(api, "web"), baseBranch: "main" });
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: web.id, title: "In the second project" });
    expect((await api.admin.board.byId({ boardId: seed.board.id })).lastProjectId).toBe(web.id);
    // Another board's cards do not count, and an archived project is not offered.
    await api.admin.card.create({ boardId: other.id, projectId: seed.project.id, title: "Elsewhere" });
    expect((await api.admin.board.byId({ boardId: seed.board.id })).lastProjectId).toBe(web.id);
    await api.admin.card.archive({ cardId: card.id });
    await api.admin.project.archive({ projectId: web.id });
    expect((await api.admin.board.byId({ boardId: seed.board.id })).lastProjectId).toBe(seed.project.id);
  });
});
