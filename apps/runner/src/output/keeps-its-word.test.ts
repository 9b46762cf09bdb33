/**
 * The runner keeps its word: a finished run's report survives a network drop and a
 * restart of the runner (outbox.ts); a cancel ends a run whatever its event stream is
 * doing; binary output streams; an agent starts only once run.start was acknowledged;
 * heartbeats go on while the runner shuts down gracefully.
 *
 * Faults are made on the wire: the runner is given a fetch that drops or fails some of its
 * calls to the real server, as a network or a broken proxy would.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { testProviders } from "@agentboard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsOf, startHarness, waitForEvent, waitForOutput, type Harness } from "../testing/harness.js";

const pathOf = (input: Parameters<typeof fetch>[0]) => new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url).pathname;

/** A fetch that lets `fail(path, n)` decide, per call, to drop it (throw) or answer it with a server failure. */
function faultyFetch(fail: (path: string, n: number) => "drop" | "500" | null): typeof fetch {
  const counts = new Map<string, number>();
  return async (input, init) => {
    const p = pathOf(input);
    const n = (counts.get(p) ?? 0) + 1;
    counts.set(p, n);
    const fault = fail(p, n);
    if (fault === "drop") throw new TypeError("fetch failed (the network dropped)");
    if (fault === "500") {
      const body = {
        error: { json: { message: "internal error", code: -32603, data: { code: "INTERNAL_SERVER_ERROR", httpStatus: 500, reason: "INTERNAL_SERVER_ERROR" } } },
      };
      return new Response(JSON.stringify(body), { status: 500, headers: { "content-type": "application/json" } });
    }
    return fetch(input, init);
  };
}

describe.each(testProviders)("the runner keeps its word on %s", (provider) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(provider);
  });
  afterAll(() => h.close());

  it("keeps a finished run's report through a network drop and a restart, then delivers it", async () => {
    const project = await h.project();
    const stateDir = path.join(h.root, "state-restart");
    const run = await h.createRun(project, { engine: "command", command: "echo finished-the-work" });
    let completes = 0;
    // The network drops every completion (and the last events with it) of the first process.
    const first = await h.startRunner(
      { stateDir, name: "keeper" },
      {
        fetch: faultyFetch((p) => {
          if (p.endsWith("/run.complete")) {
            completes++;
            return "drop";
          }
          return p.endsWith("/run.appendEvents") && completes > 0 ? "drop" : null;
        }),
      },
    );
    await waitForEvent(h.admin, run.id, (e) => e.type === "run.started");
    await expect.poll(() => completes, { timeout: 30_000 }).toBeGreaterThan(1);
    await first.stop(200);
    expect(await first.finished(run.id)).toMatchObject({ kind: "unreported" });
    expect(readdirSync(path.join(stateDir, "outbox"))).toEqual([`${run.id}.json`]);
    expect((await h.admin.run.byId.query({ runId: run.id })).status).toBe("running");

    const second = await h.startRunner({ stateDir, name: "keeper" });
    await expect.poll(async () => (await h.admin.run.byId.query({ runId: run.id })).status, { timeout: 30_000 }).toBe("succeeded");
    const output = (await eventsOf(h.admin, run.id))
      .filter((e) => e.type === "command.output")
      .map((e) => (e.payload as { text: string }).text)
      .join("");
    expect(output).toContain("finished-the-work");
    await expect.poll(() => existsSync(path.join(stateDir, "outbox", `${run.id}.json`))).toBe(false);
    await second.stop(0);
  });

  it("a cancel ends a run whose event batches the server keeps failing", async () => {
    const project = await h.project();
    const run = await h.createRun(project, { engine: "command", command: "for i in $(seq 1 600); do echo tick $i; sleep 0.05; done" });
    let failed = 0;
    const runner = await h.startRunner(
      { name: "failing-events" },
      {
        fetch: faultyFetch((p) => {
          if (!p.endsWith("/run.appendEvents")) return null;
          failed++;
          return "500";
        }),
      },
    );
    await expect.poll(() => failed, { timeout: 30_000 }).toBeGreaterThan(0);
    await h.admin.run.cancel.mutate({ runId: run.id, reason: "enough" });
    expect(await runner.finished(run.id)).toMatchObject({ kind: "reported", status: "cancelled" });
    const done = await h.admin.run.byId.query({ runId: run.id });
    expect(done.status).toBe("cancelled");
    expect(done.logs).toContain("refused by the server");
    await runner.stop(0);
  });

  it("streams binary output: NUL bytes arrive as U+FFFD", async () => {
    const project = await h.project();
    const run = await h.createRun(project, { engine: "command", command: "printf 'a\\000b\\n'" });
    const runner = await h.startRunner({ name: "binary" });
    expect(await runner.finished(run.id)).toMatchObject({ kind: "reported", status: "succeeded" });
    expect(await waitForOutput(h.admin, run.id, "a\ufffdb")).toContain("a\ufffdb");
    await runner.stop(0);
  });

  it("starts the agent only once run.start was acknowledged", async () => {
    const project = await h.project();
    const run = await h.createRun(project, { engine: "command", command: "echo started" });
    let acknowledgedAt = 0;
    const base = faultyFetch((p, n) => (p.endsWith("/run.start") && n <= 3 ? "drop" : null));
    const watched: typeof fetch = async (input, init) => {
      const res = await base(input, init);
      if (pathOf(input).endsWith("/run.start") && res.ok) acknowledgedAt = performance.now();
      return res;
    };
    let engineAt = 0;
    const runner = await h.startRunner({ name: "starter" }, { fetch: watched, observer: { onEngineStart: () => (engineAt = performance.now()) } });
    expect(await runner.finished(run.id)).toMatchObject({ kind: "reported", status: "succeeded" });
    expect(acknowledgedAt).toBeGreaterThan(0);
    expect(engineAt).toBeGreaterThan(acknowledgedAt);
    await runner.stop(0);
  });

  it("heartbeats go on while the runner shuts down gracefully", async () => {
    const project = await h.project();
    const run = await h.createRun(project, { engine: "command", command: "sleep 2; echo done" });
    let stopping = false;
    let beatsWhileStopping = 0;
    const counting: typeof fetch = async (input, init) => {
      if (stopping && pathOf(input).endsWith("/run.heartbeat")) beatsWhileStopping++;
      return fetch(input, init);
    };
    const runner = await h.startRunner({ name: "graceful", heartbeatMs: 100 }, { fetch: counting });
    await waitForEvent(h.admin, run.id, (e) => e.type === "run.started");
    stopping = true;
    await runner.stop(30_000);
    expect(await runner.finished(run.id)).toMatchObject({ kind: "reported", status: "succeeded" });
    expect(beatsWhileStopping).toBeGreaterThan(3);
  });
});
