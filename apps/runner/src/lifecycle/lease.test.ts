/**
 * A runner that lost its lease stops its agent and writes nothing more: the server has
 * moved on (the reaper failed the run, or another runner holds it). Short leases (2 s)
 * and a fast reaper stand in for the real 30 s.
 */
import { testProviders } from "@agentboard/testkit";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isProcessAlive } from "@agentboard/sandbox";
import { processesIn, startHarness, waitForEvent, waitForOutput, type Harness } from "../testing/harness.js";

/** A fetch that records every request and can be cut off, like a network partition. */
function watchedFetch() {
  const requests: { at: number; text: string }[] = [];
  const state = { partitioned: false };
  const fetchFn: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    requests.push({ at: Date.now(), text: `${init?.method ?? "GET"} ${decodeURIComponent(url)} ${typeof init?.body === "string" ? init.body : ""}` });
    if (state.partitioned) throw new TypeError("fetch failed: network unreachable (test partition)");
    return fetch(input, init);
  };
  return { fetchFn, requests, state };
}

const TICKING = 'echo "leader:$$"; while true; do echo tick; sleep 0.1; done';

/** A runner whose every request is recorded (and can be cut off), and when it gave a lease up. */
async function startWatched(h: Harness, config: Parameters<Harness["startRunner"]>[0]) {
  const net = watchedFetch();
  const stop = { lostAt: 0 };
  const runner = await h.startRunner(config, { fetch: net.fetchFn, observer: { onStop: (_id, cause, at) => cause === "lease_lost" && (stop.lostAt = at) } });
  return { net, runner, stop };
}

describe.each(testProviders)("lost lease on %s", (provider) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(provider, { leaseMs: 2_000, reaperEveryMs: 200 });
  });
  afterAll(() => h.close());

  it("heartbeats failing for a whole lease: the agent is stopped and nothing more is written", async () => {
    const { net, runner, stop } = await startWatched(h, { killGraceMs: 500 });
    try {
      const project = await h.project();
      const queued = await h.createRun(project, { engine: "command", command: TICKING });
      await waitForOutput(h.admin, queued.id, ["leader:", "tick"]);
      const tree = await processesIn(path.join(h.worktreesDir, queued.id));
      expect(tree.length).toBeGreaterThan(0);

      net.state.partitioned = true;
      const cutAt = Date.now();
      const outcome = await runner.finished(queued.id);
      expect(outcome.kind).toBe("lease_lost");
      // Given up before the lease (2 s from the last heartbeat) ran out on the server.
      expect(stop.lostAt - cutAt).toBeLessThan(2_000);
      expect(tree.filter(isProcessAlive)).toEqual([]);

      net.state.partitioned = false;
      const failed = await waitForEvent(h.admin, queued.id, (e) => e.type === "run.failed");
      expect(failed.actor).toBe("system:reaper");
      const run = await h.admin.run.byId.query({ runId: queued.id });
      expect(run).toMatchObject({ status: "failed", errorReason: "runner_lost" });

      // Not one request about this run since the runner gave it up, not even a failed one.
      const late = net.requests.filter((r) => r.at > stop.lostAt && r.text.includes(queued.id));
      expect(late).toEqual([]);
      // And the runner is healthy: it goes on claiming and running other work.
      const next = await h.createRun(project, { engine: "command", command: "true" });
      await waitForEvent(h.admin, next.id, (e) => e.type === "run.succeeded");
    } finally {
      await runner.stop(0);
    }
  });

  it("an aborted run: the agent stops at once and the runner reports nothing", async () => {
    const { net, runner, stop } = await startWatched(h, { killGraceMs: 500, heartbeatMs: 10_000 });
    try {
      const project = await h.project();
      const queued = await h.createRun(project, { engine: "command", command: TICKING });
      await waitForOutput(h.admin, queued.id, ["leader:", "tick"]);
      const tree = await processesIn(path.join(h.worktreesDir, queued.id));
      expect(tree.length).toBeGreaterThan(0);
      const t0 = Date.now();
      await h.admin.run.abort.mutate({ runId: queued.id, reason: "wrong approach" });
      const outcome = await runner.finished(queued.id);
      expect(outcome.kind).toBe("lease_lost");
      expect(stop.lostAt - t0).toBeLessThan(1_000);
      expect(tree.filter(isProcessAlive)).toEqual([]);
      const run = await h.admin.run.byId.query({ runId: queued.id });
      expect(run.status).toBe("aborted");
      expect(net.requests.filter((r) => r.at > stop.lostAt && r.text.includes(queued.id))).toEqual([]);
    } finally {
      await runner.stop(0);
    }
  });

  it("a lease taken over on the server (LEASE_LOST): the agent is stopped and nothing more is written", async () => {
    const { net, runner, stop } = await startWatched(h, { killGraceMs: 500 });
    try {
      const project = await h.project();
      const queued = await h.createRun(project, { engine: "command", command: TICKING });
      await waitForOutput(h.admin, queued.id, ["leader:", "tick"]);
      const tree = await processesIn(path.join(h.worktreesDir, queued.id));
      expect(tree.length).toBeGreaterThan(0);
      // As if the reaper had given the run to someone else: the old token is fenced out.
      const { eventSeq: seqBefore } = await h.api.core.deps.db.prisma.run.update({
        where: { id: queued.id },
        data: { leaseToken: "held-by-another-runner" },
        select: { eventSeq: true },
      });
      const outcome = await runner.finished(queued.id);
      expect(outcome.kind).toBe("lease_lost");
      expect(tree.filter(isProcessAlive)).toEqual([]);

      const reaped = await waitForEvent(h.admin, queued.id, (e) => e.type === "run.failed");
      expect(reaped.actor).toBe("system:reaper");
      const events = await h.admin.run.events.query({ runId: queued.id, afterSeq: seqBefore });
      expect(events.filter((e) => e.actor.startsWith("runner:"))).toEqual([]);
      expect(net.requests.filter((r) => r.at > stop.lostAt && r.text.includes(queued.id))).toEqual([]);
    } finally {
      await runner.stop(0);
    }
  });
});
