import type { AgentboardClient, RouterOutputs } from "@agentboard/client";

type RunStatus = RouterOutputs["run"]["byId"]["status"];

/**
 * Resolves when the run's event stream reaches `run.<status>` (the stream backfills, so a
 * status reached before the call counts too); rejects on any other final status or after
 * `timeoutMs`. Awaits the event itself rather than polling.
 */
export function waitForRunStatus(client: AgentboardClient, runId: string, status: RunStatus, timeoutMs = 60_000): Promise<void> {
  const finals = new Set(["run.succeeded", "run.failed", "run.cancelled", "run.merged", "run.aborted"]);
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      sub.unsubscribe();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`run ${runId} did not reach ${status} within ${timeoutMs} ms`)), timeoutMs);
    const sub = client.run.onEvents.subscribe(
      { runId },
      {
        onData: ({ data: event }) => {
          if (event.type === `run.${status}`) done();
          else if (finals.has(event.type)) done(new Error(`run ${runId} ended ${event.type.slice(4)}, not ${status}`));
        },
        onError: (err) => done(err instanceof Error ? err : new Error(String(err))),
      },
    );
  });
}
