/**
 * After a run, reported or not: the lease, the event stream and the batcher stop, the run's
 * sandbox is closed and the runner's own clone of a "clone" mode run is removed. The
 * checkout itself stays for review (lifecycle/sweep.ts decides when it goes).
 */
import { rm } from "node:fs/promises";
import { errorMessage } from "../output/log.js";
import type { RunContext } from "./context.js";
import type { RunWatch } from "./run-watch.js";

export async function cleanUpRun(ctx: RunContext, watch: RunWatch): Promise<void> {
  ctx.lease.stop();
  watch.stop();
  ctx.batcher.close();
  try {
    await ctx.box?.close();
    if (ctx.worktree?.ownClone) await rm(ctx.worktree.ownClone, { recursive: true, force: true });
  } catch (err) {
    ctx.log.warn("could not clean up the run's sandbox", { error: errorMessage(err) });
  }
}
