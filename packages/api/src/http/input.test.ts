import { once } from "node:events";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { listenApi, MAX_BODY_BYTES } from "./handler.js";
import { MAX_INPUT_DEPTH } from "./input.js";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";

/**
 * Malformed requests over real HTTP, on both paths (direct and tRPC's handler): each gets a
 * 4xx with a message that says what was wrong, never a 500 or a JavaScript error's text, and
 * none is held open.
 */
describe.each(testProviders)("bad requests on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  const servers: Awaited<ReturnType<typeof listenApi>>[] = [];

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    servers.push(await listenApi(api.core), await listenApi(api.core, { direct: false }));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await api.close();
  });

  const each = (name: string, test: (url: string) => Promise<void>) =>
    it.each([
      ["served directly", 0],
      ["through tRPC's handler", 1],
    ])(`${name} (%s)`, (_, i) => test(servers[i]!.url));

  const post = async (url: string, path: string, body: string) => {
    const res = await fetch(`${url}/api/trpc/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.adminToken}`, "content-type": "application/json" },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error?: { json: { message: string; data: { code: string } } } } };
  };

  /** A request written by hand on a raw socket: the status line of the answer. */
  const raw = async (url: string, request: string) => {
    const socket = connect(Number(new URL(url).port), "127.0.0.1");
    socket.setEncoding("utf8");
    socket.write(request);
    let text = "";
    while (!text.includes("\r\n\r\n")) text += ((await once(socket, "data")) as [string])[0];
    socket.destroy();
    return text;
  };

  async function runningRun() {
    const run = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    const claim = await api.admin.run.claim({ workspaceId: seed.workspace.id, runId: run.id });
    await api.admin.run.start({ runId: run.id, leaseToken: claim!.leaseToken });
    return { runId: run.id, leaseToken: claim!.leaseToken };
  }

  const NO_JS_ERROR = /Cannot |undefined|null \(reading|call stack|circular/i;

  each("a body that is not a superjson object answers 400", async (url) => {
    for (const body of ["null", "42", '"x"', "[]", JSON.stringify({ boardId: seed.board.id, title: "not wrapped" })]) {
      const res = await post(url, "card.create", body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.error!.json.message).toMatch(/^input: expected a superjson object/);
    }
  });

  each("malformed superjson meta answers 400 at once, without walking it", async (url) => {
    const json = { boardId: seed.board.id, projectId: seed.project.id, title: "t" };
    const metas: unknown[] = [
      { values: "x" }, // superjson walked this string character by character until the stack overflowed
      { values: 5 },
      { values: { title: "Date" } },
      { values: { title: ["no-such-type"] } },
      { values: { title: ["class", "Evil"] } },
      { values: { title: ["Date", "not children"] } },
      { values: { "__proto__.polluted": ["Date"] } },
      { values: { title: ["bigint"] } }, // "t" is no bigint
      { v: "1" },
      "not an object",
    ];
    const before = await api.core.deps.db.prisma.card.count();
    for (const meta of metas) {
      const res = await post(url, "card.create", JSON.stringify({ json, meta }));
      expect({ meta, status: res.status }).toEqual({ meta, status: 400 });
      expect(res.body.error!.json.message).toMatch(/^input: superjson meta/);
      expect(res.body.error!.json.message).not.toMatch(NO_JS_ERROR);
    }
    expect(await post(url, "card.create", JSON.stringify({ meta: { values: "x" } }))).toMatchObject({ status: 400 });
    expect(await api.core.deps.db.prisma.card.count()).toBe(before);
  });

  each("well-formed superjson still works: dates, undefined, and shared objects written out in full", async (url) => {
    const since = new Date(Date.now() - 60_000);
    const input = { json: { workspaceId: seed.workspace.id, since: since.toISOString() }, meta: { values: { since: ["Date"] }, v: 1 } };
    const list = await fetch(`${url}/api/trpc/run.list?input=${encodeURIComponent(JSON.stringify(input))}`, {
      headers: { authorization: `Bearer ${api.adminToken}` },
    });
    expect(list.status).toBe(200);
    // referentialEqualities are ignored: this one would make the payload contain itself.
    const { runId, leaseToken } = await runningRun();
    const shared = { text: "same" };
    const body = {
      json: { runId, leaseToken, events: [{ type: "agent.message", payload: { a: shared, b: shared } }] },
      meta: { referentialEqualities: { "events.0.payload.a": ["events.0.payload.b", "events.0.payload.a.self"] }, v: 1 },
    };
    expect((await post(url, "run.appendEvents", JSON.stringify(body))).status).toBe(200);
    const [event] = (await api.admin.run.events({ runId })).slice(-1);
    expect(event!.payload).toEqual({ a: shared, b: shared });
  });

  each(`input nested deeper than ${MAX_INPUT_DEPTH} levels answers 400 before it is parsed`, async (url) => {
    const { runId, leaseToken } = await runningRun();
    let payload: unknown = 1;
    for (let i = 0; i < 998; i++) payload = [payload];
    const deep = await post(url, "run.appendEvents", JSON.stringify({ json: { runId, leaseToken, events: [{ type: "x", payload: { p: payload } }] } }));
    expect(deep.status).toBe(400);
    expect(deep.body.error!.json.message).toBe(`input is nested deeper than ${MAX_INPUT_DEPTH} levels`);
    expect((await post(url, "run.appendEvents", "[".repeat(1_000_000))).status).toBe(400);
    const get = await fetch(`${url}/api/trpc/run.events?input=${encodeURIComponent(`{"json":${"[".repeat(200)}`)}`, {
      headers: { authorization: `Bearer ${api.adminToken}` },
    });
    expect(get.status).toBe(400);
    // Brackets inside strings are text, not nesting.
    const text = await post(
      url,
      "run.appendEvents",
      JSON.stringify({ json: { runId, leaseToken, events: [{ type: "x", payload: { text: "[{".repeat(500) } }] } }),
    );
    expect(text.status).toBe(200);
    expect(await api.admin.run.events({ runId })).toHaveLength(4); // queued, claimed, started, the text
  });

  each("TRACE and other methods answer 405 with the methods allowed", async (url) => {
    for (const method of ["TRACE", "PUT", "DELETE", "OPTIONS"]) {
      const trpc = await raw(url, `${method} /api/trpc/health.check HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(trpc).toMatch(/^HTTP\/1\.1 405 /);
      expect(trpc.toLowerCase()).toContain("allow: get, post\r\n");
      const health = await raw(url, `${method} /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(health).toMatch(/^HTTP\/1\.1 405 /);
    }
  });

  each("a declared Content-Length over the limit answers 413 before any of the body arrives", async (url) => {
    const head = await raw(
      url,
      `POST /api/trpc/card.create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ` +
        `${api.adminToken}\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{`,
    );
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    expect(head.toLowerCase()).toContain("connection: close");
    expect(MAX_BODY_BYTES).toBeLessThan(1e12);
  });
});
