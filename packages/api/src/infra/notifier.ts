import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import pg from "pg";

/**
 * Wakes waiters when something changed: idle runners when a run is queued, subscriptions
 * when a run or board has new events. Notifications carry only a topic; whoever wakes
 * reads the database, so a lost notification delays but never loses data.
 *
 * SQLite (one server process): an in-process emitter. PostgreSQL: LISTEN/NOTIFY so that
 * every API replica hears every change.
 */
export interface Notifier {
  publish(topic: string): Promise<void>;
  subscribe(topic: string, onNotify: () => void): () => void;
  close(): Promise<void>;
}

export const topics = {
  queued: (workspaceId: string) => `queued:${workspaceId}`,
  run: (runId: string) => `run:${runId}`,
  board: (boardId: string) => `board:${boardId}`,
  /** Cards of a board were created, edited, moved or deleted (no run event records that). */
  cards: (boardId: string) => `cards:${boardId}`,
  /** A token was revoked: every replica drops its cached tokens. */
  tokens: "tokens",
};

/** A run changed: wake whoever follows the run and whoever follows its board. */
export async function publishRunChange(notifier: Pick<Notifier, "publish">, runId: string, boardId: string): Promise<void> {
  await Promise.all([notifier.publish(topics.run(runId)), notifier.publish(topics.board(boardId))]);
}

/** Every subscriber is woken with this topic after a lost LISTEN connection comes back. */
const RESYNC = "*";

class LocalNotifier implements Notifier {
  protected readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  async publish(topic: string): Promise<void> {
    this.emitter.emit(topic);
  }
  /** Delivers a notification to this process's subscribers only. */
  deliver(topic: string): void {
    this.emitter.emit(topic);
  }
  subscribe(topic: string, onNotify: () => void): () => void {
    this.emitter.on(topic, onNotify);
    this.emitter.on(RESYNC, onNotify);
    return () => {
      this.emitter.off(topic, onNotify);
      this.emitter.off(RESYNC, onNotify);
    };
  }
  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

export function createLocalNotifier(): Notifier {
  return new LocalNotifier();
}

const CHANNEL = "agentboard";
/** pg_notify payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7_900;

/**
 * PostgreSQL. A publish wakes this replica's subscribers at once and is queued for the
 * other replicas: one NOTIFY at a time carries every topic published meanwhile (each
 * NOTIFY is a transaction that serializes on the server's notification queue, so under
 * load many claims or event batches share one). The payload starts with this replica's
 * id, so that it ignores its own notifications when they come back.
 */
class PostgresNotifier extends LocalNotifier {
  private listener: pg.Client | null = null;
  private closed = false;
  private retryMs = 100;
  private readonly origin = randomBytes(6).toString("base64url");
  private pending = new Set<string>();
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
  ) {
    super();
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on("notification", (msg) => {
      if (msg.channel === CHANNEL && msg.payload) this.received(msg.payload);
    });
    client.on("error", () => this.reconnect(client));
    client.on("end", () => this.reconnect(client));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
    this.retryMs = 100;
  }

  private received(payload: string): void {
    const [origin, ...published] = payload.split("\n");
    if (origin === this.origin) return;
    for (const topic of published) this.deliver(topic);
  }

  private reconnect(client: pg.Client): void {
    if (this.closed || this.listener !== client) return;
    this.listener = null;
    client.removeAllListeners("end");
    client.end().catch(() => undefined);
    const attempt = () => {
      if (this.closed) return;
      this.connect()
        // Notifications sent while we were away are gone: wake everyone to re-read.
        .then(() => this.deliver(RESYNC))
        .catch(() => {
          this.retryMs = Math.min(this.retryMs * 2, 5000);
          setTimeout(attempt, this.retryMs).unref();
        });
    };
    setTimeout(attempt, this.retryMs).unref();
  }

  /**
   * Resolves once the change is announced here; other replicas hear it with the next
   * NOTIFY. A failed NOTIFY is not the caller's failure: the change is committed, and
   * followers re-read on their own within their poll interval.
   */
  override async publish(topic: string): Promise<void> {
    this.deliver(topic);
    this.pending.add(topic);
    this.flushing ??= this.flush();
  }

  private async flush(): Promise<void> {
    // Let the rest of this turn's publishes join the batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.pending.size > 0 && !this.closed) {
      const batch = [...this.pending];
      this.pending.clear();
      for (const payload of this.payloads(batch)) {
        await this.pool.query({ name: "agentboard_notify", text: "SELECT pg_notify($1, $2)", values: [CHANNEL, payload] }).catch(() => undefined);
      }
    }
    this.flushing = null;
  }

  private *payloads(batch: string[]): Generator<string> {
    let payload = this.origin;
    for (const topic of batch) {
      if (payload.length + topic.length + 1 > MAX_PAYLOAD && payload !== this.origin) {
        yield payload;
        payload = this.origin;
      }
      payload += `\n${topic}`;
    }
    if (payload !== this.origin) yield payload;
  }

  override async close(): Promise<void> {
    await this.flushing;
    this.closed = true;
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => undefined);
    await super.close();
  }
}

export async function createPostgresNotifier(url: string, pool: pg.Pool): Promise<Notifier> {
  const n = new PostgresNotifier(url, pool);
  await n.start();
  return n;
}

/**
 * Resolves when a topic is notified or `ms` pass or `signal` aborts. Subscribe before
 * reading the database so that a change in between is not missed.
 */
export function createWaiter(notifier: Notifier, topic: string | readonly string[]) {
  let pending = false;
  let wake: (() => void) | null = null;
  const fired = new Set<string>();
  const unsubscribes = (typeof topic === "string" ? [topic] : topic).map((t) =>
    notifier.subscribe(t, () => {
      pending = true;
      fired.add(t);
      wake?.();
    }),
  );
  const unsubscribe = () => {
    for (const u of unsubscribes) u();
  };
  return {
    wait(ms: number, signal?: AbortSignal): Promise<void> {
      if (pending || signal?.aborted) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          wake = null;
          pending = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener("abort", done, { once: true });
        wake = done;
      });
    },
    /** The topics notified since the last call (a waiter on several topics learns which). */
    takeFired(): Set<string> {
      const taken = new Set(fired);
      fired.clear();
      return taken;
    },
    close: unsubscribe,
  };
}
