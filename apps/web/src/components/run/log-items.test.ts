import { describe, expect, it } from "vitest";
import type { RunEventRow } from "../../trpc/types";
import { blockTone, countToolCalls, latestUsage, toLogItems } from "./log-items";

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

  it("shows approval requests and answers, and the tool call waiting for one", () => {
    const call = ev("tool.call", { id: "t2", name: "run_command", input: { command: "make deploy" } });
    const asked = ev("approval.requested", { requestId: "q1", tool: "run_command", kind: "command", subject: { command: "make deploy" } });
    const waiting = toLogItems([call, asked]);
    expect(waiting).toMatchObject([
      { kind: "tool", awaitingApproval: true, output: null },
      { kind: "approval", phase: "requested", what: "run_command: make deploy" },
    ]);
    const denied = { ...ev("approval.denied", { requestId: "q1", by: "member:ann", note: "not on Fridays" }), actor: "member:ann" };
    const result = ev("tool.result", { id: "t2", name: "run_command", output: "Denied", isError: true });
    const items = toLogItems([call, asked, denied, result]);
    expect(items).toMatchObject([
      { kind: "tool", awaitingApproval: false, output: "Denied", isError: true },
      { kind: "approval", phase: "requested" },
      { kind: "approval", phase: "denied", actor: "member:ann", note: "not on Fridays" },
    ]);
  });
});

describe("blockTone", () => {
  it("makes stderr red on the terminal block in every theme, with one text colour", () => {
    const classes = blockTone({ terminal: true, error: true }).split(" ");
    expect(classes).toContain("text-red-400");
    expect(classes.filter((c) => /^text-/.test(c))).toEqual(["text-red-400"]);
    expect(
      blockTone({ terminal: true })
        .split(" ")
        .filter((c) => /^text-/.test(c)),
    ).toEqual(["text-zinc-100"]);
    expect(blockTone({ error: true }).split(" ")).toEqual(expect.arrayContaining(["text-red-600", "dark:text-red-400"]));
  });
});
