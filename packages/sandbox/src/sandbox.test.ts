/**
 * Several processes of one run, side by side in its sandbox (an ACP agent and the terminals
 * it starts): each is stopped, killed and waited for on its own, while stopping the run
 * still ends them all.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isProcessAlive, type GroupProcess } from "./process.js";
import { parsePolicy } from "./policy.js";
import { SandboxHost, type RunSandbox } from "./sandbox.js";

/**
 * The host pids of the shell that has `marker` in its command line and of its children (a
 * sandboxed `$$` is a pid of its own namespace, meaningless here).
 */
function hostPids(marker: string): number[] {
  // A set: the shell's child matches too until it has exec'd `sleep`.
  const pids = new Set<number>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    // bubblewrap's own command line carries the script too; only the shell that runs it counts.
    if (cmdline.startsWith("/bin/sh\0-c\0") && cmdline.includes(marker) && !cmdline.includes("--unshare-all") && isProcessAlive(pid)) {
      pids.add(pid);
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
      if (children) for (const c of children.split(/\s+/)) pids.add(Number(c));
    }
  }
  return [...pids];
}

/** Starts a sandboxed shell that runs `sleep` in the background and waits; resolves once it says it is up. */
async function sleeper(box: RunSandbox, marker: string): Promise<{ proc: GroupProcess; pids: number[] }> {
  let out = "";
  let up!: () => void;
  const started = new Promise<void>((resolve) => (up = resolve));
  const proc = box.starter("agent").start("/bin/sh", ["-c", `: ${marker}; sleep 300 & echo up; wait`], {
    graceMs: 500,
    onStdout: (t) => {
      out += t;
      if (out.includes("up")) up();
    },
  });
  await started;
  const pids = hostPids(marker);
  // The shell and its sleep.
  expect(pids.length).toBe(2);
  return { proc, pids };
}

describe("processes of one run sandbox", () => {
  let dir: string;
  let host: SandboxHost;
  let n = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "agentboard-sandbox-test-"));
    host = await SandboxHost.create({ stateDir: path.join(dir, "state"), pathVar: process.env.PATH });
    // The machines this project is built on have bubblewrap (.ci/run installs it).
    expect(host.support.reason).toBeNull();
  });
  afterAll(async () => {
    await host?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function openRun(): RunSandbox {
    const runId = `run-${process.pid}-${++n}`;
    const checkout = path.join(dir, runId);
    mkdirSync(checkout);
    return host.openRun({ runId, projectId: "p", checkout, readOnly: [], policy: parsePolicy(null), source: process.env, facts: { AGENTBOARD_RUN_ID: runId } });
  }

  it("stopping one process leaves the other running, and its `done` does not wait for the other", async () => {
    const box = openRun();
    try {
      const agent = await sleeper(box, `agent-${process.pid}-${n}`);
      const terminal = await sleeper(box, `terminal-${process.pid}-${n}`);
      await terminal.proc.terminate(500);
      const exit = await Promise.race([terminal.proc.done, new Promise<"waiting">((r) => setTimeout(() => r("waiting"), 10_000))]);
      expect(exit).not.toBe("waiting");
      expect(terminal.pids.filter(isProcessAlive)).toEqual([]);
      expect(agent.pids.filter(isProcessAlive)).toEqual(agent.pids);
      // The other one still works: it ends when asked, not before.
      let settled = false;
      void agent.proc.done.then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      await agent.proc.terminate(500);
      await agent.proc.done;
      expect(agent.pids.filter(isProcessAlive)).toEqual([]);
    } finally {
      await box.close();
    }
  });

  it("a process that ends on its own settles while another keeps running", async () => {
    const box = openRun();
    try {
      const agent = await sleeper(box, `agent-${process.pid}-${n}`);
      const quick = box.starter("agent").start("/bin/sh", ["-c", "echo quick"], {});
      const exit = await Promise.race([quick.done, new Promise<"waiting">((r) => setTimeout(() => r("waiting"), 10_000))]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(agent.pids.filter(isProcessAlive)).toEqual(agent.pids);
    } finally {
      await box.close();
    }
  });

  it("stopping the run ends all its processes", async () => {
    const box = openRun();
    try {
      const a = await sleeper(box, `first-${process.pid}-${n}`);
      const b = await sleeper(box, `second-${process.pid}-${n}`);
      await box.stop(500);
      await Promise.all([a.proc.done, b.proc.done]);
      expect([...a.pids, ...b.pids].filter(isProcessAlive)).toEqual([]);
    } finally {
      await box.close();
    }
  });
});
