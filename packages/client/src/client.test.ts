import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { getEventListeners } from "node:events";
import { listenApi, MAX_BODY_BYTES } from "@agentboard/api";
import { seedBoard, startTestApi, type TestApi } from "@agentboard/api/testing";
import { testProviders } from "@agentboard/testkit";
import { createAgentboardClient, errorReason, type AgentboardClient } from "./index.js";

/** The typed client against a real HTTP server: what runners and scripts use. */
describe.each(testProviders)("@agentboard/client over HTTP on %s", (provider) => {
  let api: TestApi;
  let http: Awaited<ReturnType<typeof listenApi>>;
  let admin: AgentboardClient;
  let seed: Awaited<ReturnType<typeof seedBoard>>;

  beforeAll(async () => {
    api = await startTestApi(provider);
    http = await listenApi(api.core);
    admin = createAgentboardClient({ url: http.url, token: api.adminToken });
    seed = await seedBoard(api);
  });
  afterAll(async () => {
    await http.close();
    await api.close();
  });

  it("serves health without a token", async () => {
    const res = await fetch(`${http.url}/api/health`);
    expect(await res.json()).toEqual({ status: "ok", db: provider, version: expect.any(String) });
  });

  it("rejects a bad token with UNAUTHORIZED and no stack trace", async () => {
    const bad = createAgentboardClient({ url: http.url, token: "ab_nope" });
    const err = await bad.workspace.list.query().catch((e: unknown) => e);
    expect(errorReason(err)).toBe("UNAUTHORIZED");
    const raw = await fetch(`${http.url}/api/trpc/workspace.list`, { headers: { authorization: "Bearer ab_nope" } });
    const text = await raw.text();
    expect(raw.status).toBe(401);
    expect(text).not.toMatch(/at .*\.ts:\d+/);
    expect(text).not.toContain("stack");
  });

  it("refuses a request body over the size limit with 413 and writes nothing", async () => {
    const before = await api.core.deps.db.prisma.card.count();
    const title = "x".repeat(MAX_BODY_BYTES);
    const res = await fetch(`${http.url}/api/trpc/card.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ json: { boardId: seed.board.id, projectId: seed.project.id, title } }),
    });
    expect(res.status).toBe(413);
    expect(await res.text()).toContain("PAYLOAD_TOO_LARGE");
    expect(await api.core.deps.db.prisma.card.count()).toBe(before);
  });

  it("single mutations answer the same whether served directly or by tRPC's handler", async () => {
    const viaTrpc = await listenApi(api.core, { direct: false });
    try {
      const run = await admin.run.create.mutate({ cardId: seed.card.id, engine: "command", command: "true" });
      const runner = (await admin.token.create.mutate({ workspaceId: seed.workspace.id, role: "runner", name: `parity-${provider}` })).token;
      const post = async (base: string, path: string, body: string, token = runner, type = "application/json") => {
        const res = await fetch(`${base}/api/trpc/${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": type }, body });
        // The direct path answers with a length; tRPC's handler streams its body chunked.
        served.push(res.headers.get("content-length") !== null ? "direct" : "trpc");
        return { status: res.status, body: (await res.json()) as unknown };
      };
      const served: string[] = [];
      const json = (input: unknown) => JSON.stringify({ json: input });
      const cases: [string, string, string?][] = [
        ["run.heartbeat", json({ runId: run.id, leaseToken: "not-held" })], // CONFLICT / LEASE_LOST
        ["run.heartbeat", json({ runId: run.id })], // BAD_REQUEST with field errors
        ["run.heartbeat", json({ runId: "no-such-run", leaseToken: "x" })], // NOT_FOUND
        ["run.claimVerification", json({ workspaceId: "not-this-tokens-workspace" })], // refused: another workspace
        ["run.cancel", json({ runId: run.id })], // FORBIDDEN for a runner token; not a direct procedure
        ["run.heartbeat", "{not json"], // BAD_REQUEST
        ["run.heartbeat", json({ runId: run.id, leaseToken: "x" }), "ab_not_a_token"], // UNAUTHORIZED
        ["run.claim", json({ workspaceId: seed.workspace.id, runId: run.id })], // success, with Dates
      ];
      for (const [path, body, token] of cases) {
        const direct = await post(http.url, path, body, token);
        const trpc = await post(viaTrpc.url, path, body, token);
        if (path === "run.claim") {
          // The second claim is the idempotent re-claim of the same runner: same run, same lease.
          expect(direct.status).toBe(200);
          expect(trpc).toEqual(direct);
          continue;
        }
        expect({ path, ...trpc }).toEqual({ path, ...direct });
        expect(direct.status).toBeGreaterThanOrEqual(400);
      }
      // Only the runner protocol's mutations are served directly (DIRECT_MUTATIONS).
      expect(served).toEqual(cases.flatMap(([path]) => [path === "run.cancel" ? "trpc" : "direct", "trpc"]));
    } finally {
      await viaTrpc.close();
      await api.core.deps.db.prisma.run.updateMany({ where: { status: { in: ["queued", "claimed"] } }, data: { status: "cancelled" } });
    }
  });

  it("subscriptions stream the same frames whether served directly or by tRPC's handler", async () => {
    const viaTrpc = await listenApi(api.core, { direct: false });
    try {
      const run = await admin.run.create.mutate({ cardId: seed.card.id, engine: "command", command: "true" });
      const runnerToken = (await admin.token.create.mutate({ workspaceId: seed.workspace.id, role: "runner", name: `sse-parity-${provider}` })).token;
      const runner = createAgentboardClient({ url: http.url, token: runnerToken });
      const claim = await runner.run.claim.mutate({ workspaceId: seed.workspace.id, runId: run.id });
      await runner.run.start.mutate({ runId: run.id, leaseToken: claim!.leaseToken });
      await runner.run.appendEvents.mutate({
        runId: run.id,
        leaseToken: claim!.leaseToken,
        events: [
          { type: "agent.message", payload: { text: "é \n ✓", at: 1 } },
          { type: "command.output", payload: { text: "ok" } },
        ],
      });
      /** The stream's text until it ends or `frames` data frames have arrived. */
      const read = async (base: string, input: unknown, opts: { frames: number; token?: string; lastEventId?: string }) => {
        const ac = new AbortController();
        const query = typeof input === "string" ? input : JSON.stringify({ json: input });
        const url = `${base}/api/trpc/run.onEvents?input=${encodeURIComponent(query)}`;
        const headers: Record<string, string> = { accept: "text/event-stream", authorization: `Bearer ${opts.token ?? api.adminToken}` };
        if (opts.lastEventId) headers["last-event-id"] = opts.lastEventId;
        const res = await fetch(url, { headers, signal: ac.signal });
        let text = "";
        const decoder = new TextDecoder();
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
          if ((text.match(/^data: /gm) ?? []).length >= opts.frames + 1) break; // + the connected frame
        }
        ac.abort();
        return { status: res.status, type: res.headers.get("content-type"), text };
      };
      const cases: [unknown, { frames: number; token?: string; lastEventId?: string }][] = [
        [{ runId: run.id }, { frames: 5 }], // queued, claimed, started, two runner events
        [{ runId: run.id }, { frames: 2, lastEventId: "3" }], // resumed after seq 3
        [{ runId: run.id, lastEventId: 4 }, { frames: 1 }],
        [{ runId: "no-such-run" }, { frames: 1 }], // serialized-error: NOT_FOUND, then the end
        [{ runId: run.id }, { frames: 1, token: "ab_not_a_token" }], // serialized-error: UNAUTHORIZED
        [{ nope: true }, { frames: 1 }], // serialized-error: BAD_REQUEST
        ["{not json", { frames: 1 }], // serialized-error: BAD_REQUEST (the parser's message)
      ];
      for (const [input, opts] of cases) {
        const direct = await read(http.url, input, opts);
        const trpc = await read(viaTrpc.url, input, opts);
        expect({ input, ...direct }).toEqual({ input, ...trpc });
        expect(direct.text.startsWith("event: connected\n")).toBe(true);
      }
      const full = await read(http.url, { runId: run.id }, { frames: 5 });
      expect(full.text.match(/^id: .*$/gm)).toEqual(["id: 1", "id: 2", "id: 3", "id: 4", "id: 5"]);
    } finally {
      await viaTrpc.close();
      await api.core.deps.db.prisma.run.updateMany({ where: { status: { in: ["queued", "claimed", "running"] } }, data: { status: "cancelled" } });
    }
  });

  // Pings come from the HTTP layer, whatever the database: one provider is enough. A server
  // of its own pings every 300 ms instead of 10 s.
  it.runIf(provider === "sqlite")("an idle subscription is kept alive with pings", async () => {
    const run = await admin.run.create.mutate({ cardId: seed.card.id, engine: "command", command: "true" });
    const pinging = await listenApi(api.core, { pingMs: 300 });
    onTestFinished(() => pinging.close());
    const res = await fetch(`${pinging.url}/api/trpc/run.onEvents?input=${encodeURIComponent(JSON.stringify({ json: { runId: run.id } }))}`, {
      headers: { accept: "text/event-stream", authorization: `Bearer ${api.adminToken}` },
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const deadline = Date.now() + 10_000;
    while (!text.includes("event: ping") && Date.now() < deadline) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    expect(text).toContain("event: ping\ndata: \n\n\n");
    await admin.run.cancel.mutate({ runId: run.id });
  });

  it("runs the whole runner protocol with typed results and machine-readable errors", async () => {
    const { token } = await admin.token.create.mutate({ workspaceId: seed.workspace.id, role: "runner", name: "http-runner" });
    const runner = createAgentboardClient({ url: http.url, token });
    const run = await admin.run.create.mutate({ cardId: seed.card.id, engine: "command", command: "echo hi" });
    const claim = await runner.run.claim.mutate({ workspaceId: seed.workspace.id });
    expect(claim?.run.id).toBe(run.id);
    expect(claim?.run.createdAt).toBeInstanceOf(Date); // superjson keeps dates
    expect(claim?.project.repoPath).toBe(seed.project.repoPath);
    const started = await runner.run.start.mutate({ runId: run.id, leaseToken: claim!.leaseToken });
    expect(started.leaseExpiresAt).toBeInstanceOf(Date);
    await runner.run.appendEvents.mutate({
      runId: run.id,
      leaseToken: claim!.leaseToken,
      events: [{ type: "command.output", payload: { stream: "stdout", text: "hi\n" } }],
    });
    const stale = await runner.run.heartbeat.mutate({ runId: run.id, leaseToken: "wrong" }).catch((e: unknown) => e);
    expect(errorReason(stale)).toBe("LEASE_LOST");
    const done = await runner.run.complete.mutate({ runId: run.id, leaseToken: claim!.leaseToken, status: "succeeded", output: { summary: "ok" } });
    expect(done.status).toBe("succeeded");
    const list = await admin.run.list.query({ workspaceId: seed.workspace.id, status: "succeeded" });
    expect(list.items.map((r) => r.id)).toContain(run.id);
  });

  it("a long-polling claim does not hold up other calls in the same batch", async () => {
    const { token } = await admin.token.create.mutate({ workspaceId: seed.workspace.id, role: "runner", name: "poller" });
    const runner = createAgentboardClient({ url: http.url, token });
    const t0 = Date.now();
    const polling = runner.run.claim.mutate({ workspaceId: seed.workspace.id, waitMs: 3_000 });
    const quick = await runner.run.claim.mutate({ workspaceId: seed.workspace.id, runId: "doesnotexist" }).catch((e: unknown) => errorReason(e));
    expect(quick).toBe("NOT_FOUND");
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await polling).toBeNull();
  });

  it("a long-lived signal given to call after call keeps no listener once each call is over, and still aborts a call in flight", async () => {
    const { token } = await admin.token.create.mutate({ workspaceId: seed.workspace.id, role: "runner", name: "long-lived" });
    const runner = createAgentboardClient({ url: http.url, token });
    const stop = new AbortController();
    for (let i = 0; i < 30; i++) {
      expect(
        await runner.run.claim.mutate({ workspaceId: seed.workspace.id, runId: "doesnotexist" }, { signal: stop.signal }).catch((e: unknown) => errorReason(e)),
      ).toBe("NOT_FOUND");
      await runner.workspace.list.query(undefined, { signal: stop.signal });
    }
    // tRPC's own links would have left 60 here, one per call, for the life of the signal.
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
    const polling = runner.run.claim.mutate({ workspaceId: seed.workspace.id, waitMs: 10_000 }, { signal: stop.signal });
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(1);
    const t0 = Date.now();
    stop.abort();
    await expect(polling).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
  });

  it("streams run events over SSE and resumes from the last event id", async () => {
    const run = await admin.run.create.mutate({ cardId: seed.card.id, engine: "command", command: "true" });
    const got: number[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const sub = admin.run.onEvents.subscribe(
        { runId: run.id, lastEventId: null },
        {
          onData(e) {
            got.push(e.data.seq);
            expect(e.id).toBe(String(e.data.seq));
            if (e.data.type === "run.cancelled") {
              sub.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    await admin.run.cancel.mutate({ runId: run.id });
    await done;
    expect(got).toEqual([1, 2]);
    // Resuming after seq 1 yields only what came after.
    const resumed = await new Promise<number[]>((resolve, reject) => {
      const seen: number[] = [];
      const sub = admin.run.onEvents.subscribe(
        { runId: run.id, lastEventId: 1 },
        {
          onData(e) {
            seen.push(e.data.seq);
            sub.unsubscribe();
            resolve(seen);
          },
          onError: reject,
        },
      );
    });
    expect(resumed).toEqual([2]);
  });
});
