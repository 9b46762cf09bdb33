import { rawPayload, type RunEvent } from "@agentboard/db";

/**
 * Events this process appended lately, by run: its own followers take them from here
 * instead of reading back what it just wrote. Only a run that continues exactly from a
 * follower's cursor is served from memory (sequence numbers are gap-free and unique per
 * run, so these are the stored events); anything else, such as events another replica
 * appended, is read from the database. Bounded in events and in bytes, per run and in all:
 * a run that writes large events keeps fewer of them, and the runs appended to least
 * recently are forgotten first.
 */
const PER_RUN = 256;
const RUN_BYTES = 1024 * 1024;
const TOTAL_BYTES = 32 * 1024 * 1024;
const RUNS = 2_000;
/** What an event costs beyond its payload's JSON (the object, its strings, its date), roughly. */
const EVENT_OVERHEAD = 200;

interface Kept {
  events: RunEvent[];
  sizes: number[];
  bytes: number;
}

export class RecentEvents {
  /** In the order the runs were last appended to. */
  private readonly runs = new Map<string, Kept>();
  private bytes = 0;

  remember(runId: string, events: RunEvent[]): void {
    if (events.length === 0) return;
    const kept = this.runs.get(runId);
    this.runs.delete(runId); // re-inserted last: the map's order is the runs' recency
    const last = kept?.events.at(-1);
    const next: Kept = last && events[0]!.seq === last.seq + 1 ? kept! : { events: [], sizes: [], bytes: 0 };
    if (next !== kept && kept) this.bytes -= kept.bytes;
    for (const e of events) {
      const size = EVENT_OVERHEAD + ((rawPayload(e) ?? JSON.stringify(e.payload))?.length ?? 0);
      next.events.push(e);
      next.sizes.push(size);
      next.bytes += size;
      this.bytes += size;
    }
    while (next.events.length > 0 && (next.events.length > PER_RUN || next.bytes > RUN_BYTES)) {
      next.events.shift();
      const size = next.sizes.shift()!;
      next.bytes -= size;
      this.bytes -= size;
    }
    if (next.events.length > 0) this.runs.set(runId, next);
    for (const [oldest, evicted] of this.runs) {
      if (this.runs.size <= RUNS && this.bytes <= TOTAL_BYTES) break;
      this.runs.delete(oldest);
      this.bytes -= evicted.bytes;
    }
  }

  /** The events right after `afterSeq`, at most `limit`, or null unless they continue from it. */
  after(runId: string, afterSeq: number, limit: number): RunEvent[] | null {
    const kept = this.runs.get(runId)?.events;
    if (!kept || kept.length === 0) return null;
    const start = afterSeq + 1 - kept[0]!.seq;
    if (start < 0 || start >= kept.length) return null;
    return kept.slice(start, start + limit);
  }
}
