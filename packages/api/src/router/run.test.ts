import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { reapExpiredLeases } from "../services/reaper.js";
import { seedBoard, seedRepo, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { reasonOf } from "../testing/failures.js";

/** The run lifecycle contract (docs/runner-protocol.md), on every provider. */

describe.each(testProviders)("run lifecycle on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runner: Caller;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    runner = await api.as("runner", seed.workspace.id, "rig-1");
  });
  afterAll(() => api.close());

  const newRun = (over: Partial<Parameters<TestApi["admin"]["run"]["create"]>[0]> = {}) =>
    api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true", ...over });

  /** Drains the queue of this workspace so each test starts clean. */
  async function drain() {
    await api.core.deps.db.prisma.run.updateMany({ where: { status: "queued" }, data: { status: "cancelled" } });
  }

  it("creates a queued run with a safe branch and a run.queued event", async () => {
    await drain();
    const run = await newRun({ prompt: "do it" });
    expect(run.status).toBe("queued");
    expect(run.branch).toMatch(/^agentboard\/fix-the-bug-[a-z0-9]+$/);
    expect(run.baseBranch).toBe("main");
    const events = await api.admin.run.events({ runId: run.id });
    expect(events.map((e) => e.type)).toEqual(["run.queued"]);
    expect(events[0]!.actor).toBe("admin:bootstrap");
  });

  it("claims by priority, then age, and start records the runner as actor", async () => {
    await drain();
    const low = await newRun({ priority: 0 });
    const high = await newRun({ priority: 5 });
    const low2 = await newRun({ priority: 0 });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await runner.run.claim({ workspaceId: seed.workspace.id });
      order.push(c!.run.id);
      expect(c!.run.status).toBe("claimed");
      expect(c!.leaseToken.length).toBeGreaterThan(10);
    }
    expect(order).toEqual([high.id, low.id, low2.id]);
    expect(await runner.run.claim({ workspaceId: seed.workspace.id })).toBeNull();

    const claim = await runner.run.claim({ workspaceId: seed.workspace.id, runId: high.id });
    const started = await runner.run.start({ runId: high.id, leaseToken: claim!.leaseToken });
    expect(started.run.status).toBe("running");
    const events = await api.admin.run.events({ runId: high.id });
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, "run.queued"],
      [2, "run.claimed"],
      [3, "run.started"],
    ]);
    expect(events[2]!.actor).toBe("runner:rig-1");
  });

  it("scopes claims by workspace, board and labels", async () => {
    await drain();
    const other = await api.admin.workspace.create({ name: "Other", slug: `other-${provider}` });
    const otherBoard = await api.admin.board.create({ workspaceId: seed.workspace.id, name: "Second" });
    const otherCard = await api.admin.card.create({ boardId: otherBoard.id, projectId: seed.project.id, title: "elsewhere" });
    const onSecond = await api.admin.run.create({ cardId: otherCard.id, engine: "command", command: "true" });
    const gpu = await newRun({ labels: ["gpu"] });
    const plain = await newRun();

    expect(await runner.run.claim({ workspaceId: seed.workspace.id, boardId: otherBoard.id, labels: [] })).toMatchObject({ run: { id: onSecond.id } });
    // A runner without the gpu label never gets the gpu run.
    expect(await runner.run.claim({ workspaceId: seed.workspace.id, labels: ["linux"] })).toMatchObject({ run: { id: plain.id } });
    expect(await runner.run.claim({ workspaceId: seed.workspace.id, labels: ["linux"] })).toBeNull();
    expect(await runner.run.claim({ workspaceId: seed.workspace.id, labels: ["gpu", "linux"] })).toMatchObject({ run: { id: gpu.id } });
    // A runner token of this workspace cannot claim in another one.
    expect(await reasonOf(runner.run.claim({ workspaceId: other.id }))).toBe("NOT_FOUND");
  });

  it("concurrent claims of different scopes are never mixed", async () => {
    await drain();
    const gpu = await Promise.all(Array.from({ length: 3 }, () => newRun({ labels: ["gpu"] })));
    const plain = await Promise.all(Array.from({ length: 3 }, () => newRun()));
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => runner.run.claim({ workspaceId: seed.workspace.id, labels: i % 2 ? ["gpu"] : [] })));
    const withoutLabel = claims.filter((_, i) => i % 2 === 0).flatMap((c) => (c ? [c.run.id] : []));
    const withGpu = claims.filter((_, i) => i % 2 === 1).flatMap((c) => (c ? [c.run.id] : []));
    // Runs needing gpu go only to gpu claimants; plain runs may go to either.
    expect(withoutLabel.every((id) => plain.some((r) => r.id === id))).toBe(true);
    expect(new Set([...withoutLabel, ...withGpu]).size).toBe(withoutLabel.length + withGpu.length);
    expect(withoutLabel.length + withGpu.length).toBe(6);
    expect(gpu.every((r) => withGpu.includes(r.id))).toBe(true);
  });

  it("claim by id is idempotent for the same runner and ALREADY_CLAIMED for another", async () => {
    await drain();
    const run = await newRun();
    const first = await runner.run.claim({ workspaceId: seed.workspace.id, runId: run.id });
    const again = await runner.run.claim({ workspaceId: seed.workspace.id, runId: run.id });
    expect(again!.leaseToken).toBe(first!.leaseToken);
    const rival = await api.as("runner", seed.workspace.id, "rig-2");
    expect(await reasonOf(rival.run.claim({ workspaceId: seed.workspace.id, runId: run.id }))).toBe("ALREADY_CLAIMED");
    expect(await reasonOf(rival.run.claim({ workspaceId: seed.workspace.id, runId: "nope" }))).toBe("NOT_FOUND");
    const events = await api.admin.run.events({ runId: run.id });
    expect(events.filter((e) => e.type === "run.claimed")).toHaveLength(1);
  });

  it("heartbeat extends the lease and reports a cancel request", async () => {
    await drain();
    const run = await newRun();
    const c = await runner.run.claim({ workspaceId: seed.workspace.id });
    await runner.run.start({ runId: run.id, leaseToken: c!.leaseToken });
    const before = (await api.core.deps.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).leaseExpiresAt!;
    // Backdate the lease instead of sleeping: a heartbeat must push it forward again.
    await api.core.deps.db.prisma.run.update({ where: { id: run.id }, data: { leaseExpiresAt: new Date(Date.now() + 1000) } });
    const hb = await runner.run.heartbeat({ runId: run.id, leaseToken: c!.leaseToken });
    expect(hb.leaseExpiresAt.getTime()).toBeGreaterThan(Date.now() + 20_000);
    expect(hb.leaseExpiresAt.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    expect(hb.cancelRequested).toBe(false);
    await api.admin.run.cancel({ runId: run.id });
    expect((await runner.run.heartbeat({ runId: run.id, leaseToken: c!.leaseToken })).cancelRequested).toBe(true);
    expect(await reasonOf(runner.run.heartbeat({ runId: run.id, leaseToken: "stale-token" }))).toBe("LEASE_LOST");
  });

  it("appends runner events in order and completes with output and metrics", async () => {
    await drain();
    const run = await newRun();
    const c = await runner.run.claim({ workspaceId: seed.workspace.id });
    await runner.run.start({ runId: run.id, leaseToken: c!.leaseToken });
    const r = await runner.run.appendEvents({
      runId: run.id,
      leaseToken: c!.leaseToken,
      events: [
        { type: "agent.message", payload: { text: "hi" } },
        { type: "tool.call", payload: { name: "read_file", input: { path: "a" } } },
      ],
    });
    expect(r).toEqual({ lastSeq: 5, appended: 2 });
    await runner.run.appendEvents({ runId: run.id, leaseToken: c!.leaseToken, events: [{ type: "agent.thinking" }] });
    const logged = (await api.admin.run.events({ runId: run.id, afterSeq: 3 })).map((e) => [e.seq, e.type, e.actor, e.payload]);
    expect(logged).toEqual([
      [4, "agent.message", "runner:rig-1", { text: "hi" }],
      [5, "tool.call", "runner:rig-1", { name: "read_file", input: { path: "a" } }],
      [6, "agent.thinking", "runner:rig-1", {}],
    ]);
    const done = await runner.run.complete({
      runId: run.id,
      leaseToken: c!.leaseToken,
      status: "succeeded",
      output: { summary: "did it", filesChanged: ["a.ts"], diff: "diff --git a/a.ts b/a.ts", testsRun: true, testsPassed: true },
      metrics: { tokensIn: 100, tokensOut: 20, costUsd: 0.0123, toolCalls: 1 },
    });
    expect(done).toMatchObject({ status: "succeeded", summary: "did it", tokensIn: 100n, tokensOut: 20n, toolCalls: 1, testsPassed: true });
    expect(done.costUsd).toBeCloseTo(0.0123);
    expect(done.filesChanged).toEqual(["a.ts"]);
    const card = await api.admin.card.byId({ cardId: seed.card.id });
    expect(card.column).toBe("in_review");
    const ws = await api.admin.workspace.byId({ workspaceId: seed.workspace.id });
    expect(ws.spentUsd).toBeCloseTo(0.0123);
    // A finished run takes no more writes, even with its own token.
    expect(await reasonOf(runner.run.appendEvents({ runId: run.id, leaseToken: c!.leaseToken, events: [{ type: "late" }] }))).toBe("LEASE_LOST");
    const detail = await api.admin.run.byId({ runId: run.id });
    expect("leaseToken" in detail).toBe(false);
  });

  it("the reaper requeues, fails, cancels — and fences out the old lease", async () => {
    await drain();
    const prisma = api.core.deps.db.prisma;
    const unstarted = await newRun();
    const running = await newRun();
    const cancelling = await newRun();
    const lastTry = await newRun({ maxAttempts: 1 });
    const leases = new Map<string, string>();
    for (let i = 0; i < 4; i++) {
      const c = await runner.run.claim({ workspaceId: seed.workspace.id });
      leases.set(c!.run.id, c!.leaseToken);
    }
    await runner.run.start({ runId: running.id, leaseToken: leases.get(running.id)! });
    await runner.run.start({ runId: cancelling.id, leaseToken: leases.get(cancelling.id)! });
    await api.admin.run.cancel({ runId: cancelling.id });

    // Nothing is due yet.
    expect(await reapExpiredLeases(api.core.deps)).toEqual({ requeued: [], failed: [], cancelled: [] });
    await prisma.run.updateMany({ where: { id: { in: [...leases.keys()] } }, data: { leaseExpiresAt: new Date(Date.now() - 1000) } });
    const reaped = await reapExpiredLeases(api.core.deps);
    expect(reaped.requeued).toEqual([unstarted.id]);
    expect(reaped.failed.sort()).toEqual([running.id, lastTry.id].sort());
    expect(reaped.cancelled).toEqual([cancelling.id]);

    const states = await prisma.run.findMany({ where: { id: { in: [...leases.keys()] } }, omit: { leaseToken: false } });
    const by = new Map(states.map((s) => [s.id, s]));
    expect(by.get(unstarted.id)).toMatchObject({ status: "queued", runnerId: null, leaseToken: null });
    expect(by.get(running.id)).toMatchObject({ status: "failed", errorReason: "runner_lost" });
    expect(by.get(lastTry.id)).toMatchObject({ status: "failed", errorReason: "runner_lost" });
    expect(by.get(cancelling.id)).toMatchObject({ status: "cancelled" });

    // The old process comes back: every write is refused and changes nothing.
    const stale = leases.get(running.id)!;
    const seqBefore = by.get(running.id)!.eventSeq;
    expect(await reasonOf(runner.run.heartbeat({ runId: running.id, leaseToken: stale }))).toBe("LEASE_LOST");
    expect(await reasonOf(runner.run.appendEvents({ runId: running.id, leaseToken: stale, events: [{ type: "agent.message" }] }))).toBe("LEASE_LOST");
    expect(await reasonOf(runner.run.complete({ runId: running.id, leaseToken: stale, status: "succeeded" }))).toBe("LEASE_LOST");
    expect(await prisma.run.findUniqueOrThrow({ where: { id: running.id } })).toMatchObject({ status: "failed", eventSeq: seqBefore });

    // The requeued run is claimed again with a new lease; the old one is dead.
    const again = await runner.run.claim({ workspaceId: seed.workspace.id });
    expect(again!.run.id).toBe(unstarted.id);
    expect(again!.run.attempt).toBe(2);
    expect(again!.leaseToken).not.toBe(leases.get(unstarted.id));
    expect(await reasonOf(runner.run.start({ runId: unstarted.id, leaseToken: leases.get(unstarted.id)! }))).toBe("LEASE_LOST");
  });

  it("cancel in every state", async () => {
    await drain();
    const queued = await newRun();
    const cq = await api.admin.run.cancel({ runId: queued.id, reason: "not needed" });
    expect(cq).toMatchObject({ status: "cancelled", closedBy: "admin:bootstrap", closedReason: "not needed" });
    expect(await reasonOf(api.admin.run.cancel({ runId: queued.id }))).toBe("NOT_CANCELLABLE");

    const claimed = await newRun();
    const c = await runner.run.claim({ workspaceId: seed.workspace.id });
    const requested = await api.admin.run.cancel({ runId: claimed.id });
    expect(requested.status).toBe("claimed");
    expect(requested.cancelRequestedAt).not.toBeNull();
    // Asking twice is harmless.
    expect((await api.admin.run.cancel({ runId: claimed.id })).status).toBe("claimed");
    await runner.run.start({ runId: claimed.id, leaseToken: c!.leaseToken });
    const hb = await runner.run.heartbeat({ runId: claimed.id, leaseToken: c!.leaseToken });
    expect(hb.cancelRequested).toBe(true);
    const done = await runner.run.complete({ runId: claimed.id, leaseToken: c!.leaseToken, status: "cancelled" });
    expect(done.status).toBe("cancelled");
    const types = (await api.admin.run.events({ runId: claimed.id })).map((e) => e.type);
    expect(types).toEqual(["run.queued", "run.claimed", "run.cancel_requested", "run.started", "run.cancelled"]);

    // Without a cancel request a runner cannot report "cancelled".
    const other = await newRun();
    const oc = await runner.run.claim({ workspaceId: seed.workspace.id });
    expect(await reasonOf(runner.run.complete({ runId: other.id, leaseToken: oc!.leaseToken, status: "cancelled" }))).toBe("BAD_REQUEST");
    await runner.run.complete({ runId: other.id, leaseToken: oc!.leaseToken, status: "failed", error: { message: "boom", reason: "engine_error" } });
    expect(await reasonOf(api.admin.run.cancel({ runId: other.id }))).toBe("NOT_CANCELLABLE");
  });

  it("cancel racing complete ends in exactly one terminal state", async () => {
    await drain();
    for (let i = 0; i < 10; i++) {
      const run = await newRun();
      const c = await runner.run.claim({ workspaceId: seed.workspace.id });
      await runner.run.start({ runId: run.id, leaseToken: c!.leaseToken });
      const [cancel, complete] = await Promise.allSettled([
        api.admin.run.cancel({ runId: run.id }),
        runner.run.complete({ runId: run.id, leaseToken: c!.leaseToken, status: "succeeded" }),
      ]);
      expect(complete.status).toBe("fulfilled");
      const final = await api.core.deps.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
      expect(final.status).toBe("succeeded");
      const events = await api.admin.run.events({ runId: run.id });
      expect(events.filter((e) => e.type === "run.succeeded")).toHaveLength(1);
      if (cancel.status === "rejected") expect(await reasonOf(Promise.reject(cancel.reason))).toBe("NOT_CANCELLABLE");
    }
  });

  it("does not claim once the workspace has spent its budget", async () => {
    await drain();
    const ws = await api.admin.workspace.create({ name: "Budget", slug: `budget-${provider}`, budgetUsd: 0.05 });
    const board = await api.admin.board.create({ workspaceId: ws.id, name: "b" });
    const project = await api.admin.project.create({ workspaceId: ws.id, name: "p", repoPath: seedRepo(api, "budget"), baseBranch: "main" });
    const card = await api.admin.card.create({ boardId: board.id, projectId: project.id, title: "t" });
    const r = await api.as("runner", ws.id);
    const first = await api.admin.run.create({ cardId: card.id, engine: "command", command: "true" });
    const c = await r.run.claim({ workspaceId: ws.id });
    await r.run.start({ runId: first.id, leaseToken: c!.leaseToken });
    await r.run.complete({ runId: first.id, leaseToken: c!.leaseToken, status: "succeeded", metrics: { costUsd: 0.06 } });
    const second = await api.admin.run.create({ cardId: card.id, engine: "command", command: "true" });
    expect(await r.run.claim({ workspaceId: ws.id })).toBeNull();
    await api.admin.workspace.update({ workspaceId: ws.id, budgetUsd: 1 });
    expect((await r.run.claim({ workspaceId: ws.id }))?.run.id).toBe(second.id);
  });

  it("a long-polling claim is woken at once by an enqueue", async () => {
    await drain();
    const t0 = Date.now();
    const waiting = runner.run.claim({ workspaceId: seed.workspace.id, waitMs: 20_000 });
    await new Promise((r) => setTimeout(r, 100));
    const run = await newRun();
    const c = await waiting;
    expect(c!.run.id).toBe(run.id);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const empty = Date.now();
    expect(await runner.run.claim({ workspaceId: seed.workspace.id, waitMs: 300 })).toBeNull();
    expect(Date.now() - empty).toBeGreaterThanOrEqual(290);
  });

  it("32 concurrent claimers over 2,000 runs claim each run exactly once", async () => {
    await drain();
    const prisma = api.core.deps.db.prisma;
    const N = 2000;
    await prisma.run.createMany({
      data: Array.from({ length: N }, (_, i) => ({
        workspaceId: seed.workspace.id,
        boardId: seed.board.id,
        cardId: seed.card.id,
        projectId: seed.project.id,
        prompt: `p${i}`,
        engine: "command" as const,
        branch: `agentboard/bulk-${i}`,
        baseBranch: "main",
        createdAt: new Date(Date.now() + i),
      })),
    });
    const claimers = await Promise.all(Array.from({ length: 4 }, (_, i) => api.as("runner", seed.workspace.id, `bulk-${i}`)));
    const got: string[] = [];
    // Concurrent claims are claimed in groups: each must come back with its own lease and
    // its own runner recorded on the run.
    const runnerIdsBy = claimers.map(() => new Set<string | null>());
    const leases = new Map<string, string>();
    await Promise.all(
      Array.from({ length: 32 }, async (_, i) => {
        const me = claimers[i % claimers.length]!;
        for (;;) {
          const c = await me.run.claim({ workspaceId: seed.workspace.id });
          if (!c) return;
          got.push(c.run.id);
          runnerIdsBy[i % claimers.length]!.add(c.run.runnerId);
          leases.set(c.run.id, c.leaseToken);
        }
      }),
    );
    expect(got).toHaveLength(N);
    expect(new Set(got).size).toBe(N);
    const stored = await prisma.run.findMany({ where: { id: { in: [...leases.keys()] } }, select: { id: true, leaseToken: true } });
    expect(stored.filter((r) => r.leaseToken !== leases.get(r.id))).toEqual([]);
    expect(runnerIdsBy.map((ids) => ids.size)).toEqual([1, 1, 1, 1]);
    expect(new Set(runnerIdsBy.flatMap((ids) => [...ids])).size).toBe(4);
    const events = await prisma.runEvent.count({ where: { type: "run.claimed", run: { branch: { startsWith: "agentboard/bulk-" } } } });
    expect(events).toBe(N);
  });
});
