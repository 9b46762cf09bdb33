import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentboardClient } from "@agentboard/client";
import { rawPayload } from "@agentboard/db";
import { testProviders } from "@agentboard/testkit";
import { listenApi } from "./handler.js";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";

/**
 * The direct SSE writer sends a stored event's payload as the JSON text SQLite gave
 * (unparsed); tRPC's handler parses and serializes it again. (PostgreSQL's driver parses
 * jsonb itself: its text form has spaces the transformer's JSON has not.) A follower must read the very
 * same payloads either way, whatever they hold: the writer splices the text into the frame
 * at the payload's key, which a string value spelling that key must not confuse.
 */
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
let deep: Json = "bottom";
for (let i = 0; i < 40; i++) deep = [deep];

const PAYLOADS: Record<string, Json>[] = [
  { text: 'a "payload":null here, and "payload":{"x":1} there' },
  { text: 'quotes " and backslashes \\ and \\" and \\\\"' },
  { text: "unicode é ✓ 🚀 \u2028 \u2029 \t\n\r" },
  { payload: null, nested: { payload: null, list: [1, "two", null, true, { payload: [] }] } },
  { numbers: [0, -1, 0.1, 1e21, 123456789012345, -2.5e-7], flags: [true, false], none: null, empty: {}, hole: [] },
  { deep },
  { big: "x".repeat(200 * 1024) },
];

describe.each(testProviders)("stored payloads streamed on %s", (provider) => {
  let api: TestApi;
  const servers: Awaited<ReturnType<typeof listenApi>>[] = [];
  let runId: string;
  let total: number;

  beforeAll(async () => {
    api = await startTestApi(provider);
    servers.push(await listenApi(api.core), await listenApi(api.core, { direct: false }));
    const seed = await seedBoard(api);
    const run = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    runId = run.id;
    const claim = await api.admin.run.claim({ workspaceId: seed.workspace.id, runId });
    await api.admin.run.start({ runId, leaseToken: claim!.leaseToken });
    const append = (events: { type: string; payload: Record<string, Json> }[]) => api.admin.run.appendEvents({ runId, leaseToken: claim!.leaseToken, events });
    await append(PAYLOADS.map((payload) => ({ type: "agent.message", payload })));
    // Enough after them that the server's memory of recent appends no longer holds them:
    // a follower from the start reads them back from the database.
    for (let i = 0; i < 3; i++) await append(Array.from({ length: 200 }, (_, n) => ({ type: "agent.message", payload: { n } })));
    total = (await api.admin.run.byId({ runId })).eventSeq;
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await api.close();
  });

  /** Every payload a follower from the first event reads, in order. */
  async function follow(url: string): Promise<{ type: string; payload: unknown }[]> {
    const client = createAgentboardClient({ url, token: api.adminToken });
    const payloads: { type: string; payload: unknown }[] = [];
    await new Promise<void>((resolve, reject) => {
      const sub = client.run.onEvents.subscribe(
        { runId },
        {
          onData: ({ data }) => {
            payloads.push({ type: data.type, payload: data.payload });
            if (data.seq === total) {
              sub.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    return payloads;
  }

  it("reads SQLite's events with their payload text, which a copy of an event does not carry", async () => {
    const page = await api.core.deps.db.sql.eventsAfter(runId, 0, 50, 4 * 1024 * 1024);
    const stored = page.events.filter((e) => e.type === "agent.message").slice(0, PAYLOADS.length);
    expect(stored.map((e) => e.payload)).toEqual(PAYLOADS);
    if (provider === "postgresql") {
      expect(stored.map((e) => rawPayload(e))).toEqual(PAYLOADS.map(() => undefined));
      return;
    }
    expect(stored.map((e) => rawPayload(e))).toEqual(PAYLOADS.map((p) => JSON.stringify(p)));
    expect(rawPayload({ ...stored[0]! })).toBeUndefined();
    const changed = stored[1]!;
    changed.payload = { replaced: true };
    expect(rawPayload(changed)).toBeUndefined();
  });

  it("a follower reads the same payloads served directly as through tRPC's handler", async () => {
    const [direct, viaTrpc] = [await follow(servers[0]!.url), await follow(servers[1]!.url)];
    expect(direct).toHaveLength(total);
    expect(direct).toEqual(viaTrpc);
    const messages = direct.filter((e) => e.type === "agent.message").map((e) => e.payload);
    expect(messages.slice(0, PAYLOADS.length)).toEqual(PAYLOADS);
  });
});
