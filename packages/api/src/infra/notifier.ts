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
};

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

class PostgresNotifier extends LocalNotifier {
  private listener: pg.Client | null = null;
  private closed = false;
  private retryMs = 100;

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
      if (msg.channel === CHANNEL && msg.payload) this.deliver(msg.payload);
    });
    client.on("error", () => this.reconnect(client));
    client.on("end", () => this.reconnect(client));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
    this.retryMs = 100;
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

  override async publish(topic: string): Promise<void> {
    await this.pool.query("SELECT pg_notify($1, $2)", [CHANNEL, topic]);
  }

  /** For tests: drop the LISTEN connection as a network failure would. */
  dropListenerForTest(): void {
    this.listener?.emit("error", new Error("dropped by test"));
  }

  override async close(): Promise<void> {
    this.closed = true;
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => undefined);
    await super.close();
  }
}

export async function createPostgresNotifier(url: string, pool: pg.Pool): Promise<Notifier & { dropListenerForTest(): void }> {
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
  const unsubscribes = (typeof topic === "string" ? [topic] : topic).map((t) =>
    notifier.subscribe(t, () => {
      pending = true;
      wake?.();
    }),
  );
  const unsubscribe = () => unsubscribes.forEach((u) => u());
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
    close: unsubscribe,
  };
}
