/**
 * The runner keeps its word: a finished run's report (its last events and its completion)
 * is written here before it is sent, and stays until the server has taken it or has said
 * the lease is gone (LEASE_LOST). A network drop, a server restart or a runner restart in
 * between loses nothing: the runner sends it again, now or when it starts next. One small
 * JSON file per run in `<state dir>/outbox`, written atomically (temporary file, fsync,
 * rename), so a crash leaves the old entry or the new one, never half of one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { errorReason, type AgentboardClient } from "@agentboard/client";
import { isTransient, sleep } from "../lifecycle/call.js";
import type { OutgoingEvent } from "./event-batcher.js";
import { errorMessage, type Logger } from "./log.js";
import type { CompleteInput } from "../types.js";

export interface OutboxEntry {
  /** The server the report is for (an outbox found under another server's runner is left alone). */
  server: string;
  runId: string;
  leaseToken: string;
  /** Events the server had not acknowledged when the run finished, in order. */
  events: OutgoingEvent[];
  report: Omit<CompleteInput, "runId" | "leaseToken">;
}

export type Delivery =
  | { kind: "delivered"; status: CompleteInput["status"]; reason?: string }
  /** The server said the lease is gone: the report will never be taken. */
  | { kind: "lease_lost" }
  /** Stopped before the server answered: the entry stays for the next try. */
  | { kind: "pending" };

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export class Outbox {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, "outbox");
  }

  put(entry: OutboxEntry): void {
    if (!ID.test(entry.runId)) throw new Error(`not a run id: ${entry.runId}`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.file(entry.runId);
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(entry));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  }

  remove(runId: string): void {
    rmSync(this.file(runId), { force: true });
  }

  /** Every entry kept; an unreadable file is reported and skipped (never deleted). */
  list(log: Logger): OutboxEntry[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const entries: OutboxEntry[] = [];
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      try {
        entries.push(JSON.parse(readFileSync(path.join(this.dir, name), "utf8")) as OutboxEntry);
      } catch (err) {
        log.warn("unreadable outbox entry; left in place", { file: name, error: errorMessage(err) });
      }
    }
    return entries;
  }

  private file(runId: string): string {
    return path.join(this.dir, `${runId}.json`);
  }
}

/**
 * Sends an entry: its events in order (at most 500 a call), then its completion, each
 * retried while the failure passes (isTransient) until `signal` ends the retries. A batch
 * of events the server refuses is left out and said so in the report's log; a completion
 * it refuses (too large, invalid) is replaced by a minimal failed report that says why.
 */
export async function deliverEntry(
  client: AgentboardClient,
  entry: OutboxEntry,
  opts: { signal: AbortSignal; log: Logger; outbox: Outbox },
): Promise<Delivery> {
  const lease = { runId: entry.runId, leaseToken: entry.leaseToken };
  let report = entry.report;
  for (let i = 0; i < entry.events.length; i += 500) {
    const events = entry.events.slice(i, i + 500);
    const sent = await persist(() => client.run.appendEvents.mutate({ ...lease, events }), opts);
    if (sent.kind === "lease_lost" || sent.kind === "pending") return { kind: sent.kind };
    if (sent.kind === "refused") {
      opts.log.error("the server refused the run's last events; left out", { events: events.length, error: errorMessage(sent.error) });
      const note = `\n${events.length} events were refused by the server and are missing from the stream: ${errorMessage(sent.error)}`;
      report = { ...report, output: { ...report.output, logs: `${report.output?.logs ?? ""}${note}` } };
    }
    // What the server took (or refused) is not sent again after a restart.
    opts.outbox.put({ ...entry, events: entry.events.slice(i + 500), report });
  }
  const done = await persist(() => client.run.complete.mutate({ ...lease, ...report }), opts);
  if (done.kind === "ok") return { kind: "delivered", status: report.status, reason: report.error?.reason };
  if (done.kind !== "refused") return { kind: done.kind };
  opts.log.error("run.complete was refused; reporting the failure instead", { error: errorMessage(done.error) });
  const fallback = await persist(
    () =>
      client.run.complete.mutate({
        ...lease,
        status: "failed",
        metrics: report.metrics,
        error: { message: `the runner could not report this run: ${errorMessage(done.error)}`.slice(0, 10_000), reason: "report_failed" },
      }),
    opts,
  );
  if (fallback.kind === "ok") return { kind: "delivered", status: "failed", reason: "report_failed" };
  // A minimal report refused too cannot become acceptable by waiting.
  return fallback.kind === "refused" ? { kind: "lease_lost" } : { kind: fallback.kind };
}

type Attempt = { kind: "ok" } | { kind: "lease_lost" } | { kind: "pending" } | { kind: "refused"; error: unknown };

async function persist(call: () => Promise<unknown>, opts: { signal: AbortSignal; log: Logger }): Promise<Attempt> {
  let backoff = 250;
  // Every call is tried at least once, even after `signal` ended the retries (a run that
  // finishes while the runner shuts down still reports, when the server answers).
  for (let attempt = 1; ; attempt++) {
    try {
      await call();
      return { kind: "ok" };
    } catch (err) {
      if (errorReason(err) === "LEASE_LOST") return { kind: "lease_lost" };
      if (!isTransient(err, attempt)) return { kind: "refused", error: err };
      if (opts.signal.aborted) return { kind: "pending" };
      opts.log.warn("delivering the run's report failed; retrying", { error: errorMessage(err) });
      await sleep(backoff, opts.signal);
      backoff = Math.min(backoff * 2, 5_000);
    }
  }
}
