/**
 * The runner as its own process (the `agentboard-runner` command), killed with SIGKILL
 * mid-run: the reaper fails the run with `runner_lost`, a restarted runner does not pick
 * it up again, sweeps its worktree (and the processes the dead runner left in it), and
 * then stops gracefully on SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { testProviders } from "@agentboard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isProcessAlive } from "@agentboard/sandbox";
import { eventsOf, processesIn, startHarness, waitForEvent, waitForFinish, waitForOutput, type Harness } from "../testing/harness.js";

const BIN = fileURLToPath(new URL("../../bin/agentboard-runner.mjs", import.meta.url));

interface RunnerProcess {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves once the runner has printed a line containing `text`. */
  waitForLine(text: string, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

function spawnRunner(h: Harness, name: string): RunnerProcess {
  const child = spawn(
    process.execPath,
    [BIN, "--server", h.url, "--workspace", h.workspace.slug, "--worktrees-dir", h.worktreesDir, "--name", name, "--claim-wait", "2s", "--kill-grace", "500ms"],
    { env: { ...process.env, AGENTBOARD_TOKEN: h.runnerToken }, stdio: ["pipe", "pipe", "pipe"] },
  );
  let text = "";
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    text += chunk.toString("utf8");
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    waitForLine(wanted, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`runner never printed ${JSON.stringify(wanted)}; output:\n${text}`)), timeoutMs);
        const check = () => {
          const line = text.split("\n").find((l) => l.includes(wanted));
          if (line !== undefined) {
            clearTimeout(timer);
            resolve(line);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

describe.each(testProviders)("runner process killed mid-run on %s", (provider) => {
  let h: Harness;
  const children: RunnerProcess[] = [];

  beforeAll(async () => {
    // Short enough to see the reaper act, long enough that a busy CI machine does not lose live leases.
    h = await startHarness(provider, { leaseMs: 5_000, reaperEveryMs: 200 });
  });
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
    await h.close();
  });

  it("runner_lost, not picked up again, worktree swept, then a graceful stop", async () => {
    const first = spawnRunner(h, "crashy");
    children.push(first);
    const project = await h.project();
    const queued = await h.createRun(project, { engine: "command", command: 'echo "leader:$$"; sleep 300' });
    await waitForOutput(h.admin, queued.id, "leader:");
    const running = await h.admin.run.byId.query({ runId: queued.id });
    expect(running.status).toBe("running");
    const worktree = running.worktreePath!;
    expect(path.dirname(worktree)).toBe(h.worktreesDir);
    const tree = await processesIn(worktree);
    expect(tree.length).toBeGreaterThan(0);

    first.child.kill("SIGKILL");
    await first.exited;
    const failed = await waitForFinish(h.admin, queued.id);
    expect(failed).toMatchObject({ status: "failed", errorReason: "runner_lost" });
    // The sandbox dies with its runner (bubblewrap's --die-with-parent takes its pid namespace down).
    await expect.poll(() => tree.filter(isProcessAlive), { timeout: 5_000 }).toEqual([]);

    const second = spawnRunner(h, "crashy");
    children.push(second);
    // The restarted runner sweeps the worktree the lost run was working in.
    const swept = await second.waitForLine("swept worktree");
    expect(swept).toContain(queued.id);
    expect(existsSync(worktree)).toBe(false);

    // The restarted runner works (it claims new runs) but never took the lost one back.
    const next = await h.createRun(project, { engine: "command", command: "echo fine" });
    expect((await waitForFinish(h.admin, next.id)).status).toBe("succeeded");
    const events = await eventsOf(h.admin, queued.id);
    expect(events.filter((e) => e.type === "run.claimed")).toHaveLength(1);
    const failedAt = events.findIndex((e) => e.type === "run.failed");
    expect(events[failedAt]).toMatchObject({ actor: "system:reaper" });
    // After the reaper's verdict, only the sweep's record: the server knows the worktree is gone.
    expect(events.slice(failedAt + 1).map((e) => e.type)).toEqual(["worktree.removed"]);
    const rows = await h.api.core.deps.db.prisma.worktree.findMany({ where: { runId: queued.id } });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.removedAt !== null)).toBe(true);

    // SIGTERM with nothing running: a clean exit.
    const longRun = await h.createRun(project, { engine: "command", command: 'echo "started"; sleep 0.5; echo done > done.txt' });
    await waitForEvent(h.admin, longRun.id, (e) => e.type === "run.started");
    second.child.kill("SIGTERM");
    // A run in progress is allowed to finish within the grace period.
    expect((await waitForFinish(h.admin, longRun.id)).status).toBe("succeeded");
    expect(await second.exited).toBe(0);
  });
});
