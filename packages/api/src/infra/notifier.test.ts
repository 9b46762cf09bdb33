import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testProviders, type TestDatabase } from "@agentboard/testkit";
import { createPostgresNotifier, type Notifier } from "./notifier.js";

/** Collects what each subscriber hears, by topic. */
function listen(n: Notifier, topics: string[]) {
  const heard = new Map<string, number>();
  const stops = topics.map((t) => n.subscribe(t, () => heard.set(t, (heard.get(t) ?? 0) + 1)));
  return {
    heard,
    stop: () => {
      for (const s of stops) s();
    },
  };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.runIf(testProviders.includes("postgresql"))("the PostgreSQL notifier (two replicas)", () => {
  let tdb: TestDatabase;
  let pools: pg.Pool[];
  let a: Awaited<ReturnType<typeof createPostgresNotifier>>;
  let b: Awaited<ReturnType<typeof createPostgresNotifier>>;

  beforeAll(async () => {
    tdb = await createTestDatabase("postgresql");
    if (tdb.config.provider !== "postgresql") throw new Error("unreachable");
    const url = tdb.config.url;
    pools = [new pg.Pool({ connectionString: url, max: 2 }), new pg.Pool({ connectionString: url, max: 2 })];
    a = await createPostgresNotifier(url, pools[0]!);
    b = await createPostgresNotifier(url, pools[1]!);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await Promise.all(pools.map((p) => p.end()));
    await tdb.drop();
  });

  it("a burst of publishes reaches the other replica, more than one NOTIFY payload's worth, and the publisher hears each once", async () => {
    // 1,000 topics of ~40 bytes: five times what one pg_notify payload may carry.
    const topics = Array.from({ length: 1_000 }, (_, i) => `run:burst-${String(i).padStart(6, "0")}-${"x".repeat(20)}`);
    const there = listen(b, topics);
    const here = listen(a, topics);
    await Promise.all(topics.map((t) => a.publish(t)));
    // Local subscribers are woken by the publish itself, before any round trip.
    expect(here.heard.size).toBe(topics.length);
    await until(() => there.heard.size === topics.length);
    // Echoes of our own NOTIFYs must be ignored. PostgreSQL delivers notifications in commit
    // order, so once a notification sent by the other replica after the burst has arrived
    // here, every echo of the burst has arrived too.
    const marker = listen(a, ["after-the-burst"]);
    await b.publish("after-the-burst");
    await until(() => marker.heard.get("after-the-burst") === 1);
    expect([...here.heard.values()].every((n) => n === 1)).toBe(true);
    marker.stop();
    there.stop();
    here.stop();
  });

  it("a publish on one replica wakes the other's subscriber, and a replica that lost its listener wakes everyone on reconnect", async () => {
    const there = listen(b, ["board:x"]);
    await a.publish("board:x");
    await until(() => there.heard.get("board:x") === 1);
    // The listening connections die as in a database restart or a network cut.
    const killed = await pools[0]!.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN %'",
    );
    expect(killed.rowCount).toBe(2);
    await until(() => (there.heard.get("board:x") ?? 0) >= 2);
    // And it hears new notifications again.
    const before = there.heard.get("board:x") ?? 0;
    await a.publish("board:x");
    await until(() => (there.heard.get("board:x") ?? 0) > before);
    there.stop();
  });
});
