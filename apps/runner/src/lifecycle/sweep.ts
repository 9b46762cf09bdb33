/**
 * Worktrees are kept for review after a run; this decides when one may go. Each
 * directory under the worktrees root is named by its run id, and the server says what
 * became of the run:
 * - merged, aborted, or back in the queue: its worktree is of no more use → removed;
 * - failed with `runner_lost`: the leftovers of a runner that died mid-run → removed
 *   (its stray processes killed first);
 * - claimed or running (by another process sharing this directory, or by a previous
 *   life of this runner whose lease has not run out yet) → kept, looked at again soon;
 * - anything else, or no answer → removed once older than the maximum age.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import type { AgentboardClient } from "@agentboard/client";
import { isValidRunId, sweepWorktreeDirs } from "@agentboard/git";
import type { Logger } from "../output/log.js";
import { killProcessesIn } from "./orphans.js";

export interface SweepOptions {
  client: AgentboardClient;
  root: string;
  maxAgeMs: number;
  /** Runs this process is executing right now. */
  isActive(runId: string): boolean;
  log: Logger;
  now?: number;
}

export interface SweepOutcome {
  removed: string[];
  /** Some worktree belongs to a run another process still holds: sweep again soon. */
  recheckSoon: boolean;
}

type Verdict = "remove" | "keep" | "hold" | "by-age";

async function verdictFor(client: AgentboardClient, runId: string): Promise<Verdict> {
  try {
    const run = await client.run.byId.query({ runId });
    if (run.status === "merged" || run.status === "aborted" || run.status === "queued") return "remove";
    if (run.status === "failed" && run.errorReason === "runner_lost") return "remove";
    if (run.status === "claimed" || run.status === "running") return "hold";
    return "by-age";
  } catch {
    // NOT_FOUND (deleted, or a run of another token) or no answer: only age can tell.
    return "by-age";
  }
}

export async function sweepWorktrees(opts: SweepOptions): Promise<SweepOutcome> {
  const now = opts.now ?? Date.now();
  const outcome: SweepOutcome = { removed: [], recheckSoon: false };
  let entries: string[];
  try {
    entries = (await fs.readdir(opts.root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if (typeof err === "object" && err !== null && "code" in err && err.code === "ENOENT") return outcome;
    throw err;
  }

  await sweepSandboxState(opts);

  const doomed = new Set<string>();
  for (const name of entries) {
    // Only directories this runner could have made are ever considered.
    if (!isValidRunId(name) || opts.isActive(name)) continue;
    const dir = path.join(opts.root, name);
    const verdict = await verdictFor(opts.client, name);
    if (verdict === "hold") outcome.recheckSoon = true;
    if (verdict === "remove") doomed.add(dir);
    if (verdict === "by-age") {
      const st = await fs.lstat(dir).catch(() => null);
      if (st && now - st.mtimeMs >= opts.maxAgeMs) doomed.add(dir);
    }
  }
  if (doomed.size === 0) return outcome;

  for (const dir of doomed) {
    if (opts.isActive(path.basename(dir))) continue;
    const groups = await killProcessesIn(dir);
    if (groups.length > 0) opts.log.warn("killed processes left in a worktree", { dir, groups: groups.join(",") });
  }
  // Asked again at removal time: a run requeued a moment ago may have been claimed here since.
  const result = await sweepWorktreeDirs({ root: opts.root, olderThanMs: 0, isKept: (dir) => !doomed.has(dir) || opts.isActive(path.basename(dir)), now });
  for (const dir of result.removed) {
    opts.log.info("swept worktree", { dir });
    // Best effort: the server's record is for display; the directory is already gone.
    await opts.client.worktree.markRemoved.mutate({ runId: path.basename(dir), path: dir }).catch(() => undefined);
  }
  for (const f of result.failed) opts.log.warn("could not sweep worktree", { dir: f.path, error: f.error });
  outcome.removed = result.removed;
  return outcome;
}

/**
 * What a run's sandbox keeps outside its checkout — its HOME, the runner's bare clone of a
 * remote — goes when the run ends; after a crash it is left, and goes here once the run is
 * not held by anyone.
 */
async function sweepSandboxState(opts: SweepOptions): Promise<void> {
  const state = path.join(opts.root, ".sandbox");
  for (const [dir, suffix] of [
    [path.join(state, "runs"), ""],
    [path.join(state, "remotes"), ".git"],
  ] as const) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const runId = suffix && name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
      if (!isValidRunId(runId) || opts.isActive(runId)) continue;
      if ((await verdictFor(opts.client, runId)) === "hold") continue;
      if (opts.isActive(runId)) continue;
      await fs.rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
