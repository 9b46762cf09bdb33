import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentboardClient } from "@agentboard/client";
import { listenApi } from "./handler.js";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heapMb = () => {
  gc();
  return getHeapStatistics().used_heap_size / 1024 / 1024;
};

/**
 * A long-lived direct SSE stream costs nothing per event once the event is written: the
 * heap after 100,000 events is where it was before them (the stream once kept ~400 bytes
 * per event on a promise it raced every read against). The HTTP layer's, so SQLite only.
 */
describe("a long direct SSE stream", () => {
  let api: TestApi;
  let http: Awaited<ReturnType<typeof listenApi>>;

  beforeAll(async () => {
    api = await startTestApi("sqlite");
    http = await listenApi(api.core);
  });
  afterAll(async () => {
    await http.close();
    await api.close();
  });

  it("keeps nothing per event it has sent", async () => {
    const seed = await seedBoard(api);
    const run = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    const claim = await api.admin.run.claim({ workspaceId: seed.workspace.id, runId: run.id });
    await api.admin.run.start({ runId: run.id, leaseToken: claim!.leaseToken });
    const client = createAgentboardClient({ url: http.url, token: api.adminToken });
    let last = 0;
    let reached: (() => void) | null = null;
    let target = 0;
    const sub = client.run.onEvents.subscribe(
      { runId: run.id },
      {
        onData: ({ data }) => {
          last = data.seq;
          if (last >= target) reached?.();
        },
      },
    );
    const stream = async (n: number) => {
      target = last + n;
      const done = new Promise<void>((r) => (reached = r));
      for (let i = 0; i < n; i += 500) {
        await api.admin.run.appendEvents({
          runId: run.id,
          leaseToken: claim!.leaseToken,
          events: Array.from({ length: 500 }, () => ({ type: "agent.message", payload: { text: "tick" } })),
        });
      }
      await done;
    };
    try {
      await stream(10_000); // warm: caches, compiled code, connection buffers
      const before = heapMb();
      await stream(100_000);
      const grew = heapMb() - before;
      expect(grew).toBeLessThan(15); // the leak kept ~40 MB for these
    } finally {
      sub.unsubscribe();
    }
  }, 180_000);
});
