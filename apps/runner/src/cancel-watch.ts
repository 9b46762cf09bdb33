/**
 * Follows a run's event stream to hear a cancel the moment it is requested, instead of
 * at the next heartbeat (up to ~10 s later). The heartbeat stays the fallback: if the
 * stream fails, nothing is lost but latency.
 */
import type { AgentboardClient } from "@agentboard/client";
import { errorMessage, type Logger } from "./log.js";

/** Final events; written by the runner itself when it reports, by the system when it gives up on the runner. */
const TERMINAL = new Set(["run.succeeded", "run.failed", "run.cancelled"]);

export interface CancelWatch {
  stop(): void;
}

export function watchForCancel(opts: {
  client: AgentboardClient;
  runId: string;
  /** Events up to this sequence number were seen at claim time; only later ones matter. */
  afterSeq: number;
  onCancelRequested(): void;
  /** The run was taken away (aborted, or settled by the reaper): stop, report nothing. */
  onGone(why: string): void;
  log: Logger;
}): CancelWatch {
  const sub = opts.client.run.onEvents.subscribe(
    { runId: opts.runId, lastEventId: opts.afterSeq },
    {
      onData(tracked) {
        const { type, actor } = tracked.data;
        if (type === "run.cancel_requested") opts.onCancelRequested();
        else if (type === "run.aborted") opts.onGone(`the run was aborted by ${actor}`);
        else if (TERMINAL.has(type) && actor.startsWith("system:")) opts.onGone(`the run was settled by ${actor} (${type})`);
      },
      onError(err) {
        opts.log.warn("event stream failed; cancels arrive with the heartbeat", { error: errorMessage(err) });
      },
    },
  );
  return { stop: () => sub.unsubscribe() };
}
