/**
 * Follows a run's event stream to hear a cancel the moment it is requested, instead of
 * at the next heartbeat (up to ~10 s later). The heartbeat stays the fallback: if the
 * stream fails, nothing is lost but latency.
 */
import type { AgentboardClient } from "@agentboard/client";
import { errorMessage, type Logger } from "./log.js";

export interface CancelWatch {
  stop(): void;
}

export function watchForCancel(opts: {
  client: AgentboardClient;
  runId: string;
  /** Events up to this sequence number were seen at claim time; only later ones matter. */
  afterSeq: number;
  onCancelRequested(): void;
  log: Logger;
}): CancelWatch {
  const sub = opts.client.run.onEvents.subscribe(
    { runId: opts.runId, lastEventId: opts.afterSeq },
    {
      onData(tracked) {
        if (tracked.data.type === "run.cancel_requested") opts.onCancelRequested();
      },
      onError(err) {
        opts.log.warn("event stream failed; cancels arrive with the heartbeat", { error: errorMessage(err) });
      },
    },
  );
  return { stop: () => sub.unsubscribe() };
}
