import { describe, expect, it } from "vitest";
import { EventBatcher, type OutgoingEvent } from "./event-batcher.js";
import { toPayload } from "./event-payload.js";

class Fatal extends Error {}

function recorder(opts: { failTimes?: number; fatal?: boolean } = {}) {
  const sent: OutgoingEvent[][] = [];
  const sentAt: number[] = [];
  let failures = opts.failTimes ?? 0;
  const send = async (events: OutgoingEvent[]) => {
    if (opts.fatal) throw new Fatal("lease lost");
    if (failures-- > 0) throw new Error("connection reset");
    sent.push(events.map((e) => ({ ...e, payload: { ...e.payload } })));
    sentAt.push(Date.now());
  };
  return { sent, sentAt, send };
}

const ev = (type: string, payload: Record<string, string | number> = {}): OutgoingEvent => ({ type, payload });

describe("EventBatcher", () => {
  it("sends a lone event within the flush interval, and many in one batch", async () => {
    const r = recorder();
    const b = new EventBatcher({ send: r.send, flushMs: 50, isFatal: () => false, isRetryable: () => true });
    const t0 = Date.now();
    b.push(ev("a"));
    b.push(ev("b"));
    b.push(ev("c"));
    await b.flush();
    expect(r.sent.map((batch) => batch.map((e) => e.type))).toEqual([["a", "b", "c"]]);
    expect(r.sentAt[0]! - t0).toBeLessThan(200);
  });

  it("keeps order across batches and retries a failed send with the same batch", async () => {
    const r = recorder({ failTimes: 2 });
    const b = new EventBatcher({ send: r.send, flushMs: 10, maxBatch: 2, isFatal: () => false, isRetryable: () => true });
    for (let i = 0; i < 5; i++) b.push(ev("n", { i }));
    await b.flush();
    expect(r.sent.flat().map((e) => e.payload.i)).toEqual([0, 1, 2, 3, 4]);
    expect(r.sent.every((batch) => batch.length <= 2)).toBe(true);
  });

  it("merges consecutive output of one stream, not across streams or other events", async () => {
    const r = recorder();
    const b = new EventBatcher({ send: r.send, flushMs: 20, isFatal: () => false, isRetryable: () => true });
    b.push(ev("command.output", { stream: "stdout", text: "a\n" }));
    b.push(ev("command.output", { stream: "stdout", text: "b\n" }));
    b.push(ev("command.output", { stream: "stderr", text: "oops\n" }));
    b.push(ev("tool.call", { name: "x" }));
    b.push(ev("command.output", { stream: "stderr", text: "more\n" }));
    await b.flush();
    expect(r.sent.flat().map((e) => [e.type, e.payload.text ?? e.payload.name])).toEqual([
      ["command.output", "a\nb\n"],
      ["command.output", "oops\n"],
      ["tool.call", "x"],
      ["command.output", "more\n"],
    ]);
  });

  it("drops everything and refuses more after a fatal error (a lost lease)", async () => {
    const r = recorder({ fatal: true });
    let fatal: unknown;
    const b = new EventBatcher({ send: r.send, flushMs: 10, isFatal: (e) => e instanceof Fatal, isRetryable: () => true, onFatal: (e) => (fatal = e) });
    b.push(ev("a"));
    await b.flush();
    expect(fatal).toBeInstanceOf(Fatal);
    expect(b.isClosed).toBe(true);
    b.push(ev("b"));
    await b.flush();
    expect(r.sent).toEqual([]);
  });
});

describe("EventBatcher and a refusing server", () => {
  it("skips a batch the server refuses as such, and later events still flow", async () => {
    const sent: string[] = [];
    let dropped = 0;
    const b = new EventBatcher({
      flushMs: 10,
      maxBatch: 1,
      send: async (events) => {
        if (events[0]!.type === "bad") throw new Error("BAD_REQUEST");
        sent.push(events[0]!.type);
      },
      isFatal: () => false,
      isRetryable: () => false,
      onDropped: (_e, n) => (dropped += n),
    });
    b.push(ev("a"));
    b.push(ev("bad"));
    b.push(ev("c"));
    await b.flush();
    expect(sent).toEqual(["a", "c"]);
    expect(dropped).toBe(1);
  });
});

describe("event payloads", () => {
  it("bounds long strings and oversized payloads and keeps them JSON", () => {
    const huge = "x".repeat(100_000);
    const p = toPayload({ output: huge, when: new Date(0), n: Number.NaN, nested: { list: [1, undefined, "y"] } });
    expect((p.output as string).length).toBeLessThan(40_000);
    expect(p.output).toContain("characters omitted");
    expect(p.when).toBe("1970-01-01T00:00:00.000Z");
    expect(p.n).toBeNull();
    expect(p.nested).toEqual({ list: [1, null, "y"] });
    const many = toPayload({ parts: Array.from({ length: 20 }, () => huge) });
    expect(many.truncated).toBe(true);
    expect(JSON.stringify(many).length).toBeLessThan(256 * 1024);
  });
});
