import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { failure } from "../testing/failures.js";

/** History is never lost: archive instead of delete, purge as an explicit act, stale saves refused. */

describe.each(testProviders)("history on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runner: Caller;
  let ann: Caller;
  let ben: Caller;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    runner = await api.as("runner", seed.workspace.id, "rig");
    ann = (await api.person("ann@h.test", { [seed.workspace.id]: "member" })).caller;
    ben = (await api.person("ben@h.test", { [seed.workspace.id]: "member" })).caller;
  });
  afterAll(() => api.close());

  it("archiving a card with a running run cancels the run; its runs and provenance stay readable; it can be restored", async () => {
    const card = await ann.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: "Keep my history" });
    const run = await ann.run.create({ cardId: card.id, engine: "command", command: "true" });
    const claim = await runner.run.claim({ workspaceId: seed.workspace.id, runId: run.id });
    await runner.run.start({ runId: run.id, leaseToken: claim!.leaseToken, worktreePath: "/tmp/agentboard-history-wt", sizeBytes: 1 });
    const archived = await ann.card.archive({ cardId: card.id });
    expect(archived.cancelledRuns).toBe(1);
    expect((await ann.run.byId({ runId: run.id })).cancelRequestedBy).toBe("user:ann@h.test");
    // Off the board, on the archived list; the run's history is all there.
    expect((await ann.card.list({ boardId: seed.board.id })).map((c) => c.id)).not.toContain(card.id);
    expect((await ann.card.list({ boardId: seed.board.id, archived: true })).map((c) => c.id)).toContain(card.id);
    expect((await ann.run.provenance({ runId: run.id })).createdBy).toBe("user:ann@h.test");
    expect((await ann.run.events({ runId: run.id })).map((e) => e.type)).toContain("run.cancel_requested");
    // No new work on an archived card.
    expect((await failure(ann.run.create({ cardId: card.id, engine: "command", command: "true" }))).reason).toBe("ARCHIVED");
    await ann.card.restore({ cardId: card.id });
    expect((await ann.card.list({ boardId: seed.board.id })).map((c) => c.id)).toContain(card.id);
  });

  it("a card with runs is not deleted; a purge takes an archived thing, a server admin and its name typed", async () => {
    const card = await ann.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: "Purge me" });
    await ann.run.create({ cardId: card.id, engine: "command", command: "true" });
    expect((await failure(ann.card.delete({ cardId: card.id }))).reason).toBe("HAS_RUNS");
    expect((await failure(ann.card.purge({ cardId: card.id, confirm: "Purge me" }))).code).toBe("FORBIDDEN");
    expect((await failure(api.admin.card.purge({ cardId: card.id, confirm: "Purge me" }))).reason).toBe("INVALID_STATE");
    await ann.card.archive({ cardId: card.id });
    expect(await failure(api.admin.card.purge({ cardId: card.id, confirm: "purge me" }))).toMatchObject({ code: "BAD_REQUEST" });
    expect(await api.admin.card.purge({ cardId: card.id, confirm: "Purge me" })).toEqual({ id: card.id, purged: true });
    expect(await api.core.deps.db.prisma.run.count({ where: { cardId: card.id } })).toBe(0);
    // A card without runs deletes as before.
    const bare = await ann.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: "Typo" });
    expect(await ann.card.delete({ cardId: bare.id })).toEqual({ id: bare.id });
  });

  it("archived boards and projects leave the lists and take no new cards", async () => {
    const board = await api.admin.board.create({ workspaceId: seed.workspace.id, name: "Old" });
    await api.admin.board.archive({ boardId: board.id });
    expect((await ann.board.list({ workspaceId: seed.workspace.id })).map((b) => b.id)).not.toContain(board.id);
    expect((await ann.board.list({ workspaceId: seed.workspace.id, archived: true })).map((b) => b.id)).toContain(board.id);
    expect((await failure(ann.card.create({ boardId: board.id, projectId: seed.project.id, title: "x" }))).reason).toBe("ARCHIVED");
    expect((await failure(ann.board.archive({ boardId: board.id }))).code).toBe("FORBIDDEN");
    // Renamed by admins while active; an archived board is restored first.
    expect((await failure(api.admin.board.rename({ boardId: board.id, name: "Older" }))).reason).toBe("ARCHIVED");
    await api.admin.board.restore({ boardId: board.id });
    expect((await failure(ann.board.rename({ boardId: board.id, name: "Older" }))).code).toBe("FORBIDDEN");
    expect((await api.admin.board.rename({ boardId: board.id, name: "Older" })).name).toBe("Older");
    expect((await ann.board.byId({ boardId: board.id })).name).toBe("Older");
  });

  it("the second save of a stale version gets STALE_VERSION with what changed and by whom, and changes nothing", async () => {
    const card = await ann.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: "Shared" });
    expect(card.version).toBe(1);
    const saved = await ann.card.update({ cardId: card.id, version: 1, description: "ann's words" });
    expect(saved.version).toBe(2);
    const stale = await failure(ben.card.update({ cardId: card.id, version: 1, description: "ben's words" }));
    expect(stale).toMatchObject({ code: "CONFLICT", reason: "STALE_VERSION" });
    expect(stale.details).toMatchObject({ version: 2, current: { description: "ann's words", updatedBy: "user:ann@h.test" } });
    expect((await ben.card.byId({ cardId: card.id })).description).toBe("ann's words");
    expect((await ben.card.update({ cardId: card.id, version: 2, description: "ben's words" })).version).toBe(3);
  });
});

describe.each(testProviders)("project validation on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
  });
  afterAll(() => api.close());

  it("a base branch the repository does not have is refused on its field, at create and at edit", async () => {
    const created = await failure(
      api.admin.project.create({ workspaceId: seed.workspace.id, name: "typo", repoPath: seed.project.repoPath, baseBranch: "mian" }),
    );
    expect(created).toMatchObject({ code: "BAD_REQUEST", details: { field: "baseBranch" } });
    const edited = await failure(api.admin.project.update({ projectId: seed.project.id, baseBranch: "mian" }));
    expect(edited).toMatchObject({ code: "BAD_REQUEST", details: { field: "baseBranch" } });
    expect((await api.admin.project.byId({ projectId: seed.project.id })).baseBranch).toBe("main");
    expect((await api.admin.project.update({ projectId: seed.project.id, baseBranch: "main", testCommand: "true" })).testCommand).toBe("true");
  });
});
