import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isProcessAlive } from "@agentboard/sandbox";
import { AcpEngine } from "./acp/engine.js";
import { acpTestAgent as testAgent, makeTempDir, pidsFrom, recordingContext } from "./testing.js";
import type { EngineEvent } from "./types.js";

/** The acp engine against a real ACP agent process (fixtures/acp-agent.ts, on the SDK's agent side). */

let root: string;
let worktree: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir: root, cleanup } = await makeTempDir("acp-engine"));
  worktree = path.join(root, "wt");
  await import("node:fs/promises").then((fs) => fs.mkdir(worktree));
});
afterEach(async () => cleanup());

const ofType = <T extends EngineEvent["type"]>(events: EngineEvent[], type: T) => events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);

describe("acp engine", () => {
  it("maps the session's updates to run events; writes, reads and terminals stay in the worktree", async () => {
    const rec = recordingContext({ worktree, prompt: "work on it", agent: testAgent("allow") });
    // Chunks are joined into one message until something else happens (or they pause, which
    // a loaded machine must not turn into a split message here).
    const result = await new AcpEngine({ messageIdleMs: 60_000 }).run(rec.ctx);
    expect(result).toMatchObject({ summary: "Done: hello.txt holds hello.", toolCalls: 3, costUsd: 0.0123, turns: 1 });
    expect(await readFile(path.join(worktree, "hello.txt"), "utf8")).toBe("hello\n");
    expect(existsSync(path.join(root, "outside.txt"))).toBe(false);

    expect(ofType(rec.events, "agent.plan")[0]?.payload.entries.map((e) => e.content)).toEqual(["Write hello.txt", "Check it"]);
    expect(ofType(rec.events, "agent.thinking").map((e) => e.payload.text)).toEqual(["The file does not exist yet."]);
    expect(ofType(rec.events, "agent.message").map((e) => e.payload.text)).toEqual(["I will write hello.txt.", "Done: hello.txt holds hello."]);
    const calls = ofType(rec.events, "tool.call");
    expect(calls.map((c) => c.payload.name)).toEqual(["Write hello.txt", "cat hello.txt", "Write ../outside.txt"]);
    expect(calls[0]?.payload.input).toEqual({ path: path.join(worktree, "hello.txt"), content: "hello\n" });
    expect(ofType(rec.events, "agent.permission").map((e) => e.payload)).toEqual([
      { toolCallId: "write-1", title: "Write hello.txt", decision: "allowed", option: "yes" },
    ]);
    const results = ofType(rec.events, "tool.result");
    expect(results.map((r) => [r.payload.id, r.payload.isError])).toEqual([
      ["write-1", false],
      ["cat-1", false],
      ["escape-1", true],
    ]);
    expect(results[0]?.payload.output).toBe('{"bytes":6}');
    expect(results[1]?.payload.output).toBe("hello\ndone\n");
    expect(results[2]?.payload.output).toContain("outside the worktree");
    expect(rec.output()).toBe("hello\ndone\n");
    expect(ofType(rec.events, "agent.usage").map((e) => e.payload.costUsd)).toEqual([0.0123]);
  });

  it("answers permission requests by the profile's policy: deny picks the reject option", async () => {
    const rec = recordingContext({ worktree, prompt: "work", agent: testAgent("deny") });
    const result = await new AcpEngine().run(rec.ctx);
    expect(result.summary).toBe("I was not allowed to write.");
    expect(existsSync(path.join(worktree, "hello.txt"))).toBe(false);
    expect(ofType(rec.events, "agent.permission").map((e) => [e.payload.decision, e.payload.option])).toEqual([["denied", "no"]]);
    expect(ofType(rec.events, "tool.result").map((r) => [r.payload.output, r.payload.isError])).toEqual([["permission denied", true]]);
  });

  it("cancels with session/cancel; the agent's terminals are ended with the run", async () => {
    const rec = recordingContext({ worktree, prompt: "wait", agent: testAgent() });
    // A grace period longer than the test: the agent must stop because it was told to.
    const running = new AcpEngine({ graceMs: 120_000 }).run(rec.ctx);
    await rec.waitForOutput("sleeper:");
    await rec.waitForEvent((e) => e.type === "agent.message");
    const [sleeper] = pidsFrom(rec.output(), "sleeper");
    expect(isProcessAlive(sleeper!)).toBe(true);
    rec.controller.abort();
    await expect(running).rejects.toMatchObject({ reason: "cancelled" });
    expect(ofType(rec.events, "agent.message").map((e) => e.payload.text)).toEqual(["Waiting.", "Stopping: the client cancelled."]);
    expect(isProcessAlive(sleeper!)).toBe(false);
  });

  it("kills an agent that ignores the cancel once the grace period is over", async () => {
    const rec = recordingContext({ worktree, prompt: "stubborn", agent: testAgent() });
    const running = new AcpEngine({ graceMs: 300 }).run(rec.ctx);
    await rec.waitForOutput("sleeper:");
    const [sleeper] = pidsFrom(rec.output(), "sleeper");
    rec.controller.abort();
    await expect(running).rejects.toMatchObject({ reason: "cancelled" });
    expect(isProcessAlive(sleeper!)).toBe(false);
  });

  it("fails with the agent's own words when it dies or cannot start", async () => {
    const crash = recordingContext({ worktree, prompt: "crash", agent: testAgent() });
    await expect(new AcpEngine().run(crash.ctx)).rejects.toMatchObject({ reason: "engine_error", message: expect.stringContaining("test-agent failed") });
    const missing = recordingContext({ worktree, prompt: "work", agent: { ...testAgent(), command: path.join(root, "no-such-agent") } });
    await expect(new AcpEngine().run(missing.ctx)).rejects.toMatchObject({ reason: "engine_error", message: expect.stringContaining("cannot start") });
    const none = recordingContext({ worktree, prompt: "work" });
    await expect(new AcpEngine().run(none.ctx)).rejects.toMatchObject({ message: expect.stringContaining("agent profile") });
  });
});
