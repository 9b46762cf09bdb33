import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenApi } from "./handler.js";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";

/**
 * Followers that stop reading, over real sockets: a raw HTTP client subscribes to a run's
 * events and stops reading (its socket paused: the kernel's buffers fill, then the
 * server's). The server must then stop taking events from the subscription, keep its write
 * queue at about one frame, and drop the follower after the stall bound. Backpressure is the
 * HTTP layer's, whatever the database: SQLite only.
 */
const MB = 1024 * 1024;
const EVENT_TEXT = "x".repeat(250_000);

describe.each([
  ["served directly", true],
  ["through tRPC's handler", false],
])("a follower that stops reading, %s", (_, direct) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;

  beforeAll(async () => {
    api = await startTestApi("sqlite");
    seed = await seedBoard(api);
  });
  afterAll(async () => {
    await api.close();
  });

  async function runningRun() {
    const run = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    const claim = await api.admin.run.claim({ workspaceId: seed.workspace.id, runId: run.id });
    await api.admin.run.start({ runId: run.id, leaseToken: claim!.leaseToken });
    /** Appends `mb` megabytes of events (250 kB each). */
    const appendMb = async (mb: number) => {
      for (let left = Math.round((mb * MB) / EVENT_TEXT.length); left > 0; left -= 16) {
        const events = Array.from({ length: Math.min(16, left) }, () => ({ type: "agent.message", payload: { text: EVENT_TEXT } }));
        await api.admin.run.appendEvents({ runId: run.id, leaseToken: claim!.leaseToken, events });
      }
    };
    const stored = async () => await api.core.deps.db.prisma.runEvent.count({ where: { runId: run.id } });
    return { run, appendMb, stored };
  }

  /** A server whose sockets the test can see: what each still has to send is its write queue. */
  async function server(stallMs: number) {
    const http = await listenApi(api.core, { direct, stallMs });
    const sockets = new Set<Socket>();
    http.server.on("connection", (s: Socket) => {
      sockets.add(s);
      s.once("close", () => sockets.delete(s));
    });
    /** The largest write queue seen while `work` runs, sampled every 20 ms. */
    const peakQueue = async <T>(work: Promise<T>): Promise<{ result: T; peak: number }> => {
      let peak = 0;
      const sample = () => (peak = Math.max(peak, ...[...sockets].map((s) => s.writableLength)));
      const timer = setInterval(sample, 20);
      try {
        const result = await work;
        sample();
        return { result, peak };
      } finally {
        clearInterval(timer);
      }
    };
    return { http, sockets, peakQueue };
  }

  /** Subscribes to run.onEvents over a raw socket and stops reading once the stream is open. */
  async function stalledFollower(url: string, runId: string, lastEventId?: string) {
    const socket = connect(Number(new URL(url).port), "127.0.0.1");
    const input = encodeURIComponent(JSON.stringify({ json: { runId } }));
    const resume = lastEventId ? `Last-Event-ID: ${lastEventId}\r\n` : "";
    socket.write(
      `GET /api/trpc/run.onEvents?input=${input} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${api.adminToken}\r\n${resume}\r\n`,
    );
    socket.setEncoding("utf8");
    socket.on("error", () => undefined); // a dropped follower may see a reset; its close is awaited
    // Only the event ids are kept, line by line: the frames themselves are megabytes.
    const ids: number[] = [];
    let connected = false;
    let partial = "";
    socket.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        if (line === "event: connected") connected = true;
        else if (line.startsWith("id: ")) ids.push(Number(line.slice(4)));
      }
    });
    while (!connected) await once(socket, "data");
    socket.pause();
    return {
      socket,
      ids,
      /** Reads again until `done` holds. */
      async readUntil(done: () => boolean) {
        socket.resume();
        while (!done()) await once(socket, "data");
      },
    };
  }

  it("is paused: the server keeps about one frame queued, and the follower gets everything once it reads again", async () => {
    const { http, peakQueue } = await server(60_000);
    try {
      const { run, appendMb, stored } = await runningRun();
      const follower = await stalledFollower(http.url, run.id);
      // 16 MB, several times what the kernel's socket buffers hold on either side.
      const { peak } = await peakQueue(appendMb(16));
      expect(peak).toBeLessThan(1 * MB);
      const total = await stored();
      await follower.readUntil(() => follower.ids.length >= total);
      expect(follower.ids).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      follower.socket.destroy();
    } finally {
      await http.close();
    }
  });

  it("is dropped after the stall bound, and resumes by its last event id", async () => {
    const { http, sockets, peakQueue } = await server(500);
    try {
      const { run, appendMb, stored } = await runningRun();
      const follower = await stalledFollower(http.url, run.id);
      const [serverSide] = [...sockets];
      const dropped = once(serverSide!, "close");
      const { peak } = await peakQueue(appendMb(16).then(() => dropped));
      expect(peak).toBeLessThan(1 * MB);
      expect(sockets.size).toBe(0);
      // What it had before the drop, then the rest from its last id.
      follower.socket.resume();
      await once(follower.socket, "close");
      const received = [...follower.ids];
      const last = received.at(-1) ?? 0;
      const again = await stalledFollower(http.url, run.id, String(last));
      const total = await stored();
      await again.readUntil(() => again.ids.at(-1) === total);
      expect([...received, ...again.ids]).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      again.socket.destroy();
    } finally {
      await http.close();
    }
  });
});
