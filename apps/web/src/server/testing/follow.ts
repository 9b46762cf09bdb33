import type { AgentboardClient, RouterOutputs } from "@agentboard/client";

type RunEvent = RouterOutputs["run"]["events"][number];

export interface Follower {
  /** Sequence numbers in the order they arrived (duplicates included, if any came). */
  seqs: number[];
  events: RunEvent[];
  /** Resolves once an event with this seq (or a later one) has arrived. */
  until(seq: number, timeoutMs?: number): Promise<void>;
  stop(): void;
}

/** Follows `run.onEvents` over real SSE, as any client would. */
export function followRun(client: AgentboardClient, runId: string, lastEventId?: number): Follower {
  const seqs: number[] = [];
  const events: RunEvent[] = [];
  let wake: (() => void) | null = null;
  let failure: unknown = null;
  const sub = client.run.onEvents.subscribe(
    { runId, lastEventId: lastEventId ?? null },
    {
      onData: ({ data }) => {
        seqs.push(data.seq);
        events.push(data);
        wake?.();
      },
      onError: (err) => {
        failure = err;
        wake?.();
      },
    },
  );
  return {
    seqs,
    events,
    async until(seq, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!seqs.some((s) => s >= seq)) {
        if (failure) throw failure;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for seq ${seq}; got ${seqs.join(",")}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = null;
      }
    },
    stop: () => sub.unsubscribe(),
  };
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
