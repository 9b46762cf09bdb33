/**
 * Follows a run's event stream for what the runner must hear at once: a cancel (instead of
 * at the next heartbeat, up to ~10 s later), the run being taken away, and the answers to
 * its approval requests, and the messages people send the agent (`user.message`). One
 * stream per run serves them all. The heartbeat stays the
 * fallback for cancels; an approval whose answer the stream did not bring is settled when
 * its wait times out (`run.expireApproval` returns the answer that stands).
 */
import type { AgentboardClient, RouterOutputs } from "@agentboard/client";
import type { InboxMessage } from "../engines/types.js";
import { errorMessage, type Logger } from "../output/log.js";

type RunEvent = RouterOutputs["run"]["events"][number];

/** Final events; written by the runner itself when it reports, by the system when it gives up on the runner. */
const TERMINAL = new Set(["run.succeeded", "run.failed", "run.cancelled"]);

export interface RunWatch {
  stop(): void;
}

export function watchRun(opts: {
  client: AgentboardClient;
  runId: string;
  /** Events up to this sequence number were seen at claim time; only later ones matter. */
  afterSeq: number;
  onCancelRequested(): void;
  /** The run was taken away (aborted, or settled by the reaper): stop, report nothing. */
  onGone(why: string): void;
  /** `approval.granted`, `approval.denied`, `approval.expired`. */
  onApprovalAnswered(event: RunEvent): void;
  /** `user.message`: a person's message for the agent (`run.sendMessage`). */
  onUserMessage?(message: InboxMessage): void;
  log: Logger;
}): RunWatch {
  const sub = opts.client.run.onEvents.subscribe(
    { runId: opts.runId, lastEventId: opts.afterSeq },
    {
      onData(tracked) {
        const event = tracked.data;
        const { type, actor } = event;
        if (type === "run.cancel_requested") opts.onCancelRequested();
        else if (type === "run.aborted") opts.onGone(`the run was aborted by ${actor}`);
        else if (TERMINAL.has(type) && actor.startsWith("system:")) opts.onGone(`the run was settled by ${actor} (${type})`);
        else if (type === "approval.granted" || type === "approval.denied" || type === "approval.expired") opts.onApprovalAnswered(event);
        else if (type === "user.message") {
          const p = event.payload as { messageId?: unknown; text?: unknown } | null;
          if (p && typeof p.messageId === "string" && typeof p.text === "string") opts.onUserMessage?.({ id: p.messageId, text: p.text, author: actor });
        }
      },
      onError(err) {
        opts.log.warn("event stream failed; cancels arrive with the heartbeat, approvals when their wait times out", { error: errorMessage(err) });
      },
    },
  );
  return { stop: () => sub.unsubscribe() };
}
