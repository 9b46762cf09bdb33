import { describe, expect, it } from "vitest";
import type { RunEventRow } from "../../trpc/types";
import { countToolCalls, latestUsage, toLogItems } from "./log-items";

let seq = 0;
const ev = (type: string, payload: unknown): RunEventRow => ({
  id: ++seq,
  runId: "r1",
  seq,
  type,
  actor: "runner:rig",
  payload: payload as RunEventRow["payload"],
  createdAt: new Date(0),
});

describe("event log items", () => {
  it("joins tool results to their calls, merges output and keeps unknown events raw", () => {
    const events = [
      ev("run.started", { runnerId: "x" }),
      ev("agent.message", { role: "assistant", text: "Looking" }),
      ev("tool.call", { id: "t1", name: "read_file", input: { path: "a.ts" } }),
      ev("agent.usage", { tokensIn: 10, tokensOut: 2, costUsd: 0.001 }),
      ev("tool.result", { id: "t1", name: "read_file", output: "contents", isError: false }),
      ev("command.output", { stream: "stdout", text: "one\n" }),
      ev("command.output", { stream: "stdout", text: "two\n" }),
      ev("command.output", { stream: "stderr", text: "oops\n" }),
      ev("agent.message", { unexpected: true }),
      ev("agent.usage", { tokensIn: 30, tokensOut: 5, costUsd: 0.002 }),
    ];
    const items = toLogItems(events);
    expect(items.map((i) => i.kind)).toEqual(["status", "message", "tool", "output", "output", "other"]);
    expect(items[2]).toMatchObject({ kind: "tool", name: "read_file", input: { path: "a.ts" }, output: "contents", isError: false });
    expect(items[3]).toMatchObject({ stream: "stdout", text: "one\ntwo\n" });
    expect(latestUsage(events)).toEqual({ tokensIn: 30, tokensOut: 5, costUsd: 0.002 });
    expect(countToolCalls(events)).toBe(1);
  });
});
