/**
 * Streams a run's events to the server in small ordered batches: an event waits at most
 * `flushMs` (≤ 200 ms) before a send starts, one send is in flight at a time so order is
 * kept, and a failed send is retried with the same batch until it lands or the lease is
 * gone. Delivery is at-least-once: a send that reached the server but whose answer was
 * lost is sent again. Text is sent as the server stores it (NUL and unpaired surrogates
 * become U+FFFD), so binary output never makes a batch the server must refuse.
 */
import { storableText } from "@agentboard/client";

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
  /**
   * True when attempt `attempt` (1-based) of a batch that failed with `err` may succeed if
   * repeated (no answer, a passing server failure); otherwise the batch is dropped.
   */
  isRetryable(err: unknown, attempt: number): boolean;
  onFatal?(err: unknown): void;
  onRetry?(err: unknown): void;
  /** A batch the server refused as such (invalid, too large): it is skipped so later events still flow. */
  onDropped?(err: unknown, events: number): void;
}

/** Consecutive output chunks are merged up to this size, so a chatty command is not one row per line. */
const MERGE_OUTPUT_CHARS = 8 * 1024;

export class EventBatcher {
  private buffer: OutgoingEvent[] = [];
  /** The batch being sent, until the server took it. */
  private inFlight: OutgoingEvent[] | null = null;
  /** Set by takePending: sending stops, what is left is handed over. */
  private handedOver = false;
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private closed = false;
  private wakeRetry: (() => void) | null = null;
  private readonly maxBatch: number;

  constructor(private readonly opts: EventBatcherOptions) {
    this.maxBatch = Math.min(opts.maxBatch ?? 200, 500);
  }

  push(raw: OutgoingEvent): void {
    if (this.closed || this.handedOver) return;
    const event = { type: raw.type, payload: storablePayload(raw.payload) };
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
    while (!this.closed && !this.handedOver && (this.buffer.length > 0 || this.sending)) {
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

  /**
   * Stops sending and hands over every event the server has not taken: the batch in
   * flight (once its current attempt has settled) and the buffer. The caller delivers
   * them itself (the run's final report does, through the outbox).
   */
  async takePending(): Promise<OutgoingEvent[]> {
    this.handedOver = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.wakeRetry?.();
    await this.sending;
    const pending = [...(this.inFlight ?? []), ...this.buffer];
    this.inFlight = null;
    this.buffer = [];
    return this.closed ? [] : pending;
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.sending || this.closed || this.handedOver || this.buffer.length === 0) return;
    this.sending = this.drain().finally(() => {
      this.sending = null;
      // Events pushed during the send got no timer of their own.
      if (this.buffer.length > 0 && !this.closed && !this.handedOver) this.timer ??= setTimeout(() => this.kick(), this.opts.flushMs);
    });
  }

  private async drain(): Promise<void> {
    let backoff = 200;
    while (!this.closed && !this.handedOver && this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.maxBatch);
      this.inFlight = batch;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.opts.send(batch);
          this.inFlight = null;
          backoff = 200;
          break;
        } catch (err) {
          if (this.closed) return;
          if (this.opts.isFatal(err)) {
            this.close();
            this.opts.onFatal?.(err);
            return;
          }
          if (!this.opts.isRetryable(err, attempt)) {
            this.inFlight = null;
            this.opts.onDropped?.(err, batch.length);
            break;
          }
          if (this.handedOver) return;
          this.opts.onRetry?.(err);
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, 2_000);
          if (this.closed || this.handedOver) return;
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

/** The payload with every string (and key) as the server stores it; unchanged payloads are not copied. */
function storablePayload(payload: JsonRecord): JsonRecord {
  return storableJson(payload) as JsonRecord;
}

function storableJson(value: JsonValue): JsonValue {
  if (typeof value === "string") return storableText(value);
  if (Array.isArray(value)) {
    const out = value.map(storableJson);
    return out.some((v, i) => v !== value[i]) ? out : value;
  }
  if (value !== null && typeof value === "object") {
    let changed = false;
    const entries = Object.entries(value).map(([k, v]): [string, JsonValue] => {
      const key = storableText(k);
      const next = storableJson(v);
      if (key !== k || next !== v) changed = true;
      return [key, next];
    });
    return changed ? Object.fromEntries(entries) : value;
  }
  return value;
}
