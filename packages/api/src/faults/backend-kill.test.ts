import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_PG_URL, testProviders } from "@agentboard/testkit";
import { listenApi } from "../http/handler.js";
import { callOverHttp, type HttpAnswer } from "../testing/http-calls.js";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";

/**
 * The server's PostgreSQL connections are killed (pg_terminate_backend) over and over while
 * 20 runners claim, start, stream and complete runs and a member keeps creating them, all
 * over real HTTP. No call may answer a bare 5xx: a lost connection is retried inside the
 * server, or answered SERVICE_UNAVAILABLE / RETRYABLE, which the callers here retry as a
 * runner does. No run is claimed twice, and every acknowledged event is stored, once.
 */

const CLAIMERS = 20;
/** The faults go on at least this long and until MIN_RUNS runs went through, at most MAX_MS. */
const DURATION_MS = 12_000;
const MIN_RUNS = 10;
const MAX_MS = 45_000;
const KILL_EVERY_MS = 700;
const BATCHES = 4;
const EVENTS_PER_BATCH = 3;

describe.runIf(testProviders.includes("postgresql"))("PostgreSQL backends killed under load", () => {
  let api: TestApi;
  let http: Awaited<ReturnType<typeof listenApi>>;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runnerToken: string;
  let killer: pg.Client;

  beforeAll(async () => {
    api = await startTestApi("postgresql", { poolSize: 8 });
    http = await listenApi(api.core);
    seed = await seedBoard(api);
    runnerToken = (await api.withToken("runner", seed.workspace.id, "fault-runner")).token;
    killer = new pg.Client({ connectionString: TEST_PG_URL });
    await killer.connect();
  });
  afterAll(async () => {
    await killer?.end();
    await http?.close();
    await api?.close();
  });

  it("answers no bare 5xx, claims no run twice, stores exactly the events it acknowledged", async () => {
    const database = new URL((api.db.config as { url: string }).url).pathname.slice(1);
    const memberToken = (await api.withToken("member", seed.workspace.id, "creator")).token;
    const claimsBy = new Map<string, number>();
    const acked = new Map<string, number>();
    const stats = { created: 0, calls: 0, retryable: 0, failures: [] as string[], kills: 0, killed: 0 };
    // Work is there from the start, so claims flow at once however slow creation is.
    for (let i = 0; i < MIN_RUNS; i++) await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    const started = Date.now();
    const finishedRuns = () => [...claimsBy.keys()].length;
    const going = () => Date.now() - started < MAX_MS && (Date.now() - started < DURATION_MS || finishedRuns() < MIN_RUNS);

    /** A call retried as a runner retries: RETRYABLE answers and lost answers, never anything else. */
    async function call(token: string, path: string, input: unknown): Promise<HttpAnswer> {
      for (;;) {
        stats.calls++;
        let answer: HttpAnswer;
        try {
          answer = await callOverHttp(http.url, token, path, "mutation", input);
        } catch (err) {
          stats.failures.push(`${path}: no answer (${String(err)})`);
          throw err;
        }
        if (answer.status === 503 && answer.error?.reason === "RETRYABLE") {
          stats.retryable++;
          continue;
        }
        if (answer.status >= 500) stats.failures.push(`${path}: ${answer.status} ${answer.text.slice(0, 200)}`);
        return answer;
      }
    }

    async function claimer(n: number) {
      let seq = 0;
      while (going()) {
        const claim = await call(runnerToken, "run.claim", { workspaceId: seed.workspace.id });
        if (claim.status !== 200) continue;
        const got = claim.data as { run: { id: string }; leaseToken: string } | null;
        if (!got) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const runId = got.run.id;
        claimsBy.set(runId, (claimsBy.get(runId) ?? 0) + 1);
        const lease = { runId, leaseToken: got.leaseToken };
        expect((await call(runnerToken, "run.start", { ...lease, sizeBytes: 2 ** 32 })).status).toBe(200);
        for (let b = 0; b < BATCHES; b++) {
          const events = Array.from({ length: EVENTS_PER_BATCH }, () => ({ type: "agent.message", payload: { text: `claimer ${n} event ${++seq}` } }));
          const appended = await call(runnerToken, "run.appendEvents", { ...lease, events });
          expect(appended.status, appended.text).toBe(200);
          acked.set(runId, (acked.get(runId) ?? 0) + (appended.data as { appended: number }).appended);
        }
        const done = await call(runnerToken, "run.complete", { ...lease, status: "succeeded", metrics: { tokensIn: 3_000_000_000 } });
        expect(done.status, done.text).toBe(200);
      }
    }

    async function creator() {
      while (going()) {
        const created = await call(memberToken, "run.create", { cardId: seed.card.id, engine: "command", command: "true" });
        expect(created.status, created.text).toBe(200);
        stats.created++;
      }
    }

    async function kill() {
      while (going()) {
        await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
        const { rows } = await killer.query<{ killed: boolean }>(
          "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
          [database],
        );
        stats.kills++;
        stats.killed += rows.filter((r) => r.killed).length;
      }
    }

    await Promise.all([kill(), creator(), creator(), ...Array.from({ length: CLAIMERS }, (_, n) => claimer(n))]);

    const prisma = api.core.deps.db.prisma;
    const stored = await prisma.runEvent.groupBy({ by: ["runId"], where: { type: "agent.message" }, _count: { _all: true } });
    const claimedEvents = await prisma.runEvent.groupBy({ by: ["runId"], where: { type: "run.claimed" }, _count: { _all: true } });
    console.log(
      `[fault] ${stats.calls} calls, ${stats.kills} kill rounds (${stats.killed} backends), ${stats.retryable} RETRYABLE answers, ` +
        `${stats.created} runs created, ${claimsBy.size} claimed and finished, ${[...acked.values()].reduce((a, b) => a + b, 0)} events acknowledged`,
    );
    expect(stats.failures).toEqual([]);
    // The figures depend on the machine; that the faults met real traffic does not.
    expect(stats.kills).toBeGreaterThan(5);
    expect(stats.killed).toBeGreaterThan(stats.kills);
    expect(claimsBy.size).toBeGreaterThanOrEqual(MIN_RUNS);
    expect([...claimsBy.values()].filter((n) => n > 1)).toEqual([]);
    expect(claimedEvents.filter((g) => g._count._all > 1)).toEqual([]);
    expect(Object.fromEntries(stored.map((g) => [g.runId, g._count._all]))).toEqual(Object.fromEntries(acked));
    const finished = await prisma.run.count({ where: { id: { in: [...claimsBy.keys()] }, status: "succeeded", tokensIn: 3_000_000_000n } });
    expect(finished).toBe(claimsBy.size);
  }, 120_000);
});
