/**
 * Streams a run's events to the server in small ordered batches: an event waits at most
 * `flushMs` (≤ 200 ms) before a send starts, one send is in flight at a time so order is
 * kept, and a failed send is retried with the same batch until it lands or the lease is
 * gone. Delivery is at-least-once: a send that reached the server but whose answer was
 * lost is sent again.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonRecord = { [key: string]: JsonValue };

export interface OutgoingEvent {
  type: string;
  payload: JsonRecord;
}

export interface EventBatcherOptions {
  send(events: OutgoingEvent[]): Promise<void>;
  flushMs: number;
  /** The API takes at most 500 events a call. */
  maxBatch?: number;
  /** True when a send error means no later send can succeed (LEASE_LOST): pending events are dropped. */
  isFatal(err: unknown): boolean;
  /** True when the same batch may succeed later (no answer, server error); otherwise the batch is dropped. */
  isRetryable(err: unknown): boolean;
  onFatal?(err: unknown): void;
  onRetry?(err: unknown): void;
  /** A batch the server refused as such (invalid, too large): it is skipped so later events still flow. */
  onDropped?(err: unknown, events: number): void;
}

/** Consecutive output chunks are merged up to this size, so a chatty command is not one row per line. */
const MERGE_OUTPUT_CHARS = 8 * 1024;

export class EventBatcher {
  private buffer: OutgoingEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private closed = false;
  private wakeRetry: (() => void) | null = null;
  private readonly maxBatch: number;

  constructor(private readonly opts: EventBatcherOptions) {
    this.maxBatch = Math.min(opts.maxBatch ?? 200, 500);
  }

  push(event: OutgoingEvent): void {
    if (this.closed) return;
    const last = this.buffer.at(-1);
    if (
      last &&
      event.type === "command.output" &&
      last.type === "command.output" &&
      last.payload.stream === event.payload.stream &&
      typeof last.payload.text === "string" &&
      typeof event.payload.text === "string" &&
      // A batch in flight has already left `buffer`, so this never alters what is being sent.
      last.payload.text.length + event.payload.text.length <= MERGE_OUTPUT_CHARS
    ) {
      last.payload = { ...last.payload, text: last.payload.text + event.payload.text };
    } else {
      this.buffer.push(event);
    }
    if (this.buffer.length >= this.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.opts.flushMs);
  }

  /** Resolves once every event pushed so far was delivered (or dropped by a fatal error). */
  async flush(): Promise<void> {
    while (!this.closed && (this.buffer.length > 0 || this.sending)) {
      this.kick();
      await this.sending;
    }
  }

  /** Drops whatever is pending and refuses new events (the lease is gone). */
  close(): void {
    this.closed = true;
    this.buffer = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.wakeRetry?.();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.sending || this.closed || this.buffer.length === 0) return;
    this.sending = this.drain().finally(() => {
      this.sending = null;
      // Events pushed during the send got no timer of their own.
      if (this.buffer.length > 0 && !this.closed) this.timer ??= setTimeout(() => this.kick(), this.opts.flushMs);
    });
  }

  private async drain(): Promise<void> {
    let backoff = 200;
    while (!this.closed && this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.maxBatch);
      for (;;) {
        try {
          await this.opts.send(batch);
          backoff = 200;
          break;
        } catch (err) {
          if (this.closed) return;
          if (this.opts.isFatal(err)) {
            this.close();
            this.opts.onFatal?.(err);
            return;
          }
          if (!this.opts.isRetryable(err)) {
            this.opts.onDropped?.(err, batch.length);
            break;
          }
          this.opts.onRetry?.(err);
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, 2_000);
          if (this.closed) return;
        }
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeRetry = done;
    });
  }
}
