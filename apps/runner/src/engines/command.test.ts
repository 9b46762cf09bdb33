import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isProcessAlive } from "@agentboard/sandbox";
import { CommandEngine } from "./command.js";
import { makeTempDir, pidsFrom, recordingContext } from "./testing.js";
import { EngineError } from "./types.js";

let worktree: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir: worktree, cleanup } = await makeTempDir("cmd-engine"));
});
afterEach(async () => {
  await cleanup();
});

// Orphaned children end up as zombies of a PID 1 that may never reap them, on which
// process.kill(pid, 0) still succeeds; isProcessAlive also looks at /proc state.
function alive(pids: number[]): number[] {
  return pids.filter((p) => isProcessAlive(p));
}

describe("command engine", () => {
  it("runs in the worktree and streams stdout and stderr", async () => {
    const rec = recordingContext({
      worktree,
      command: "echo one; echo two >&2; pwd; echo hello > out.txt; printf 'no newline'",
    });
    const result = await new CommandEngine().run(rec.ctx);
    expect(result).toMatchObject({ turns: 1, toolCalls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0 });
    expect(result.summary).toContain("echo one");
    const stdout = rec.events.flatMap((e) => (e.type === "command.output" && e.payload.stream === "stdout" ? [e.payload.text] : [])).join("");
    const stderr = rec.events.flatMap((e) => (e.type === "command.output" && e.payload.stream === "stderr" ? [e.payload.text] : [])).join("");
    expect(stdout).toBe(`one\n${worktree}\nno newline`);
    expect(stderr).toBe("two\n");
    expect(await readFile(path.join(worktree, "out.txt"), "utf8")).toBe("hello\n");
  });

  it("uses the given environment only", async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, for the shell.
    const rec = recordingContext({ worktree, command: 'echo "v=$MY_VAR k=${SECRET_KEY:-none}"', env: { PATH: "/usr/bin:/bin", MY_VAR: "x1" } });
    process.env.SECRET_KEY = "leak";
    try {
      await new CommandEngine().run(rec.ctx);
    } finally {
      delete process.env.SECRET_KEY;
    }
    expect(rec.output()).toBe("v=x1 k=none\n");
  });

  it("fails with the exit code and the tail of the output", async () => {
    const rec = recordingContext({ worktree, command: "echo working; echo 'it broke' >&2; exit 3" });
    const err = await new CommandEngine().run(rec.ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).reason).toBe("engine_error");
    expect((err as EngineError).message).toContain("code 3");
    expect((err as EngineError).message).toContain("it broke");
  });

  it("refuses to run without a command", async () => {
    const rec = recordingContext({ worktree, command: "  " });
    await expect(new CommandEngine().run(rec.ctx)).rejects.toMatchObject({ reason: "engine_error" });
  });

  it("cancel kills the whole process tree", async () => {
    const script = [
      "echo leader:$$",
      "sleep 30 & echo child:$!",
      "sleep 30 & echo child:$!",
      // A nested shell with its own child: grandchildren are in the group too.
      "sh -c 'sleep 30 & echo child:$!; wait' & echo child:$!",
      "sleep 0.1; echo ready",
      "wait",
    ].join("\n");
    const rec = recordingContext({ worktree, command: script });
    const running = new CommandEngine().run(rec.ctx).catch((e: unknown) => e);
    await rec.waitForOutput("ready");
    const pids = [...pidsFrom(rec.output(), "leader"), ...pidsFrom(rec.output(), "child")];
    expect(pids).toHaveLength(5);
    expect(alive(pids)).toHaveLength(5);

    const started = Date.now();
    rec.controller.abort();
    const err = await running;
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).reason).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(alive(pids)).toEqual([]);
  });

  it("escalates to SIGKILL when the group ignores SIGTERM", async () => {
    const script = ["trap '' TERM", "sleep 30 & echo child:$!", "echo leader:$$", "echo ready", "wait"].join("\n");
    const rec = recordingContext({ worktree, command: script });
    const running = new CommandEngine({ graceMs: 300 }).run(rec.ctx).catch((e: unknown) => e);
    await rec.waitForOutput("ready");
    const pids = [...pidsFrom(rec.output(), "leader"), ...pidsFrom(rec.output(), "child")];
    const started = Date.now();
    rec.controller.abort();
    const err = await running;
    expect((err as EngineError).reason).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(alive(pids)).toEqual([]);
  });

  it("does not wait for background jobs left behind, and kills them", async () => {
    const rec = recordingContext({ worktree, command: "sleep 30 & echo child:$!; echo done" });
    const started = Date.now();
    await new CommandEngine().run(rec.ctx);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(alive(pidsFrom(rec.output(), "child"))).toEqual([]);
  });

  it("maps an abort reason of TimeoutError to a timeout", async () => {
    const rec = recordingContext({ worktree, command: "echo ready; sleep 30" });
    const running = new CommandEngine().run(rec.ctx).catch((e: unknown) => e);
    await rec.waitForOutput("ready");
    rec.controller.abort(new DOMException("run timed out", "TimeoutError"));
    expect(await running).toMatchObject({ reason: "timeout" });
  });
});
