import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { BoundedOutput, createLineSplitter, groupAlive, isProcessAlive, spawnGroup } from "./process.js";

describe("spawnGroup", () => {
  it("rejects when the program cannot be started", async () => {
    const proc = spawnGroup("/nonexistent/program", [], { cwd: tmpdir(), env: {} });
    await expect(proc.done).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("reports exit code and signal", async () => {
    const ok = spawnGroup("/bin/sh", ["-c", "exit 5"], { cwd: tmpdir(), env: {} });
    expect(await ok.done).toEqual({ code: 5, signal: null });
    const killed = spawnGroup("/bin/sh", ["-c", "kill -KILL $$"], { cwd: tmpdir(), env: {} });
    expect(await killed.done).toEqual({ code: null, signal: "SIGKILL" });
  });

  it("terminate() empties the group", async () => {
    let out = "";
    const proc = spawnGroup("/bin/sh", ["-c", "sleep 30 & echo $!; wait"], {
      cwd: tmpdir(),
      env: {},
      onStdout: (t) => (out += t),
    });
    await new Promise<void>((resolve) => proc.child.stdout?.once("data", () => resolve()));
    const sleeper = Number(out.trim());
    expect(isProcessAlive(sleeper)).toBe(true);
    await proc.terminate(1_000);
    await proc.done;
    expect(groupAlive(proc.pid)).toBe(false);
    expect(isProcessAlive(sleeper)).toBe(false);
  });
});

describe("output helpers", () => {
  it("splits lines across chunks", () => {
    const lines: string[] = [];
    const s = createLineSplitter((l) => lines.push(l));
    s.push("a\nb");
    s.push("c\r\nd");
    s.end();
    expect(lines).toEqual(["a", "bc", "d"]);
  });

  it("keeps head and tail of long output", () => {
    const b = new BoundedOutput(10);
    b.push("0123456789abcdefghij");
    expect(b.toString()).toBe("01234\n… [10 characters omitted] …\nfghij");
    expect(b.last(3)).toBe("hij");
  });
});
