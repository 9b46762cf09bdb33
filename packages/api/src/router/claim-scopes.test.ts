import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { failure } from "../testing/failures.js";
import { topics } from "../infra/notifier.js";

/** A claim over several scopes: one long-poll for all of them (docs/runner-protocol.md). */

describe.each(testProviders)("multi-scope claims on %s", (provider) => {
  let api: TestApi;
  let seeds: Awaited<ReturnType<typeof seedBoard>>[];

  beforeAll(async () => {
    api = await startTestApi(provider);
    seeds = [];
    for (const slug of ["one", "two", "three"]) seeds.push(await seedBoard(api, slug));
  });
  afterAll(() => api.close());

  const scopes = () => seeds.map((s) => ({ workspaceId: s.workspace.id }));
  const enqueue = (i: number) => api.admin.run.create({ cardId: seeds[i]!.card.id, engine: "command", command: "true" });
  async function drain() {
    await api.core.deps.db.prisma.run.updateMany({ where: { status: "queued" }, data: { status: "cancelled" } });
  }

  it("a claim waiting on every scope is woken by an enqueue in any of them, and gets that run", async () => {
    for (const i of [2, 0, 1]) {
      await drain();
      const t0 = Date.now();
      const waiting = api.admin.run.claim({ scopes: scopes(), waitMs: 20_000 });
      await new Promise((r) => setTimeout(r, 150));
      const run = await enqueue(i);
      const claim = await waiting;
      expect(claim?.run.id).toBe(run.id);
      expect(claim?.run.workspaceId).toBe(seeds[i]!.workspace.id);
      expect(Date.now() - t0).toBeLessThan(10_000);
    }
    // Nothing queued anywhere: it waits the whole time, then answers null.
    const t0 = Date.now();
    expect(await api.admin.run.claim({ scopes: scopes(), waitMs: 300 })).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it("claims what is already queued in any scope, recording the runner of that scope's workspace", async () => {
    await drain();
    const run = await enqueue(1);
    const claim = await api.admin.run.claim({ scopes: scopes() });
    expect(claim?.run.id).toBe(run.id);
    const runner = await api.core.deps.db.prisma.runner.findUniqueOrThrow({ where: { id: claim!.run.runnerId! } });
    expect(runner.workspaceId).toBe(seeds[1]!.workspace.id);
    expect(await api.admin.run.claim({ scopes: scopes() })).toBeNull();
  });

  it("over many scopes, asks which have work and tries those: a run queued in the last of twenty is claimed at once, a preferred follow-up by its runner", async () => {
    const more = [];
    for (let i = 0; i < 17; i++) more.push(await seedBoard(api, `more-${i}`));
    const twenty = [...seeds, ...more].map((s) => ({ workspaceId: s.workspace.id }));
    expect(twenty).toHaveLength(20);
    await drain();
    const last = await api.admin.run.create({ cardId: more.at(-1)!.card.id, engine: "command", command: "true" });
    const claim = await api.admin.run.claim({ scopes: twenty });
    expect(claim?.run.id).toBe(last.id);
    expect(await api.admin.run.claim({ scopes: twenty })).toBeNull();
    // A follow-up held for this claimant's runner in that workspace (others wait out its grace).
    const runnerId = claim!.run.runnerId!;
    const lastWorkspace = more.at(-1)!;
    const followUp = await api.admin.run.create({ cardId: lastWorkspace.card.id, engine: "command", command: "true" });
    await api.core.deps.db.prisma.run.update({ where: { id: followUp.id }, data: { preferredRunnerId: runnerId } });
    // Another token's claim does not get it within the grace; this claimant does.
    const other = await api.as("runner", lastWorkspace.workspace.id, "other");
    expect(await other.run.claim({ workspaceId: lastWorkspace.workspace.id })).toBeNull();
    expect((await api.admin.run.claim({ scopes: twenty }))?.run.id).toBe(followUp.id);
  });

  it("never hands one run to two claimants: concurrent claimants over overlapping scopes claim each run exactly once", async () => {
    await drain();
    const prisma = api.core.deps.db.prisma;
    const perScope = 100;
    await prisma.run.createMany({
      data: seeds.flatMap((s, k) =>
        Array.from({ length: perScope }, (_, i) => ({
          workspaceId: s.workspace.id,
          boardId: s.board.id,
          cardId: s.card.id,
          projectId: s.project.id,
          prompt: "p",
          engine: "command" as const,
          branch: `agentboard/scopes-${k}-${i}`,
          baseBranch: "main",
          createdAt: new Date(Date.now() + i),
        })),
      ),
    });
    const got: { id: string; workspaceId: string }[] = [];
    // Each claimant serves two of the three workspaces, in different orders.
    const views = [
      [0, 1],
      [1, 2],
      [2, 0],
      [0, 2],
      [2, 1],
      [1, 0],
    ];
    await Promise.all(
      Array.from({ length: 12 }, async (_, c) => {
        const mine = views[c % views.length]!.map((i) => ({ workspaceId: seeds[i]!.workspace.id }));
        for (;;) {
          const claim = await api.admin.run.claim({ scopes: mine });
          if (!claim) return;
          expect(mine.map((m) => m.workspaceId)).toContain(claim.run.workspaceId);
          got.push({ id: claim.run.id, workspaceId: claim.run.workspaceId });
        }
      }),
    );
    expect(got).toHaveLength(3 * perScope);
    expect(new Set(got.map((g) => g.id)).size).toBe(3 * perScope);
    expect(await prisma.runEvent.count({ where: { type: "run.claimed", run: { branch: { startsWith: "agentboard/scopes-" } } } })).toBe(3 * perScope);
  });

  it("waiting claimants share a burst of enqueues: each run goes to one of them, each claimant gets at most one", async () => {
    await drain();
    const waiting = Array.from({ length: 6 }, () => api.admin.run.claim({ scopes: scopes(), waitMs: 1_500 }));
    await new Promise((r) => setTimeout(r, 150));
    const runs = await Promise.all([enqueue(0), enqueue(1), enqueue(2)]);
    const claims = await Promise.all(waiting);
    const ids = claims.flatMap((c) => (c ? [c.run.id] : []));
    expect(ids.sort()).toEqual(runs.map((r) => r.id).sort());
  });

  it("board and label scopes within one workspace: only runs of the named boards, with the scope's labels", async () => {
    await drain();
    const s = seeds[0]!;
    const other = await api.admin.board.create({ workspaceId: s.workspace.id, name: "Other" });
    const otherCard = await api.admin.card.create({ boardId: other.id, projectId: s.project.id, title: "elsewhere" });
    const third = await api.admin.board.create({ workspaceId: s.workspace.id, name: "Third" });
    const thirdCard = await api.admin.card.create({ boardId: third.id, projectId: s.project.id, title: "gpu" });
    const runner: Caller = await api.as("runner", s.workspace.id, "boards");
    const mine = [
      { workspaceId: s.workspace.id, boardId: s.board.id },
      { workspaceId: s.workspace.id, boardId: third.id, labels: ["gpu"] },
    ];
    await api.admin.run.create({ cardId: otherCard.id, engine: "command", command: "true" });
    const gpu = await api.admin.run.create({ cardId: thirdCard.id, engine: "command", command: "true", labels: ["gpu"] });
    expect((await runner.run.claim({ scopes: mine }))?.run.id).toBe(gpu.id);
    expect(await runner.run.claim({ scopes: mine })).toBeNull();
    const onMain = await enqueue(0);
    expect((await runner.run.claim({ scopes: mine, waitMs: 2_000 }))?.run.id).toBe(onMain.id);
  });

  it("re-verifications too: one long-poll over every scope is woken by a request in any of them, and each goes to one claimant", async () => {
    await drain();
    const prisma = api.core.deps.db.prisma;
    // A request as run.merge({ reverify: true }) writes and announces it (merge.test.ts covers that path).
    async function request(i: number) {
      const run = await enqueue(i);
      const v = await prisma.mergeVerification.create({
        data: { runId: run.id, workspaceId: seeds[i]!.workspace.id, baseCommit: "a".repeat(40), branchCommit: "b".repeat(40), requestedBy: "test" },
      });
      await api.core.deps.notifier.publish(topics.queued(seeds[i]!.workspace.id));
      return v;
    }
    for (const i of [2, 0]) {
      const t0 = Date.now();
      const waiting = api.admin.run.claimVerification({ scopes: scopes(), waitMs: 20_000 });
      await new Promise((r) => setTimeout(r, 150));
      const v = await request(i);
      const claim = await waiting;
      expect(claim?.verification.id).toBe(v.id);
      expect(Date.now() - t0).toBeLessThan(10_000);
      const held = await prisma.mergeVerification.findUniqueOrThrow({ where: { id: v.id } });
      const runner = await prisma.runner.findUniqueOrThrow({ where: { id: held.runnerId! } });
      expect(runner.workspaceId).toBe(seeds[i]!.workspace.id);
    }
    // Four claimants over all scopes, three requests: each request claimed exactly once.
    const claimants = Array.from({ length: 4 }, () => api.admin.run.claimVerification({ scopes: scopes(), waitMs: 1_500 }));
    await new Promise((r) => setTimeout(r, 150));
    const made = [await request(0), await request(1), await request(2)];
    const got = (await Promise.all(claimants)).flatMap((c) => (c ? [c.verification.id] : []));
    expect(got.sort()).toEqual(made.map((v) => v.id).sort());
    expect(await api.admin.run.claimVerification({ scopes: scopes(), waitMs: 200 })).toBeNull();
    // The input rules of run.claim, and every scope authorized.
    const runner = await api.as("runner", seeds[0]!.workspace.id, "one-only-verify");
    expect((await failure(runner.run.claimVerification({}))).code).toBe("BAD_REQUEST");
    expect((await failure(runner.run.claimVerification({ workspaceId: seeds[0]!.workspace.id, scopes: [{ workspaceId: seeds[0]!.workspace.id }] }))).code).toBe(
      "BAD_REQUEST",
    );
    expect(
      (await failure(runner.run.claimVerification({ scopes: [{ workspaceId: seeds[0]!.workspace.id }, { workspaceId: seeds[1]!.workspace.id }] }))).code,
    ).toBe("NOT_FOUND");
  });

  it("validates the input and authorizes every scope", async () => {
    const runner = await api.as("runner", seeds[0]!.workspace.id, "one-only");
    expect((await failure(runner.run.claim({}))).code).toBe("BAD_REQUEST");
    expect((await failure(runner.run.claim({ workspaceId: seeds[0]!.workspace.id, scopes: [{ workspaceId: seeds[0]!.workspace.id }] }))).code).toBe(
      "BAD_REQUEST",
    );
    expect((await failure(runner.run.claim({ scopes: [] }))).code).toBe("BAD_REQUEST");
    expect((await failure(runner.run.claim({ scopes: [{ workspaceId: seeds[0]!.workspace.id }], boardId: seeds[0]!.board.id }))).code).toBe("BAD_REQUEST");
    // A runner token of one workspace cannot wait on another's queue.
    expect((await failure(runner.run.claim({ scopes: [{ workspaceId: seeds[0]!.workspace.id }, { workspaceId: seeds[1]!.workspace.id }] }))).code).toBe(
      "NOT_FOUND",
    );
    const viewer = await api.as("viewer", seeds[0]!.workspace.id);
    expect((await failure(viewer.run.claim({ scopes: [{ workspaceId: seeds[0]!.workspace.id }] }))).code).toBe("FORBIDDEN");
    expect((await failure(api.anonymous.run.claim({ scopes: [{ workspaceId: seeds[0]!.workspace.id }] }))).code).toBe("UNAUTHORIZED");
  });
});
