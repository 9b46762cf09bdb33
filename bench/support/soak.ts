import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type Socket } from "node:net";
import { createAgentboardClient } from "@agentboard/client";
import type { Provider } from "@agentboard/db";
import { createTestDatabase, initRepo } from "@agentboard/testkit";
import { cpuMeter, type CpuSpent } from "./cpu.js";
import { spawnApiServer } from "./spawn-server.js";

/**
 * A soak of the live streams: runs append events at a steady rate for a while, followed by
 * subscribers that read (run and board followers) and by subscribers that never read (raw
 * sockets, paused as soon as their stream opens). A paused socket cannot see that the
 * server dropped it, so each wakes up now and then: it reads what is left, counts a drop if
 * the server had closed it, and subscribes again to stall once more. `npm run bench:soak` runs it at full size and prints the figures;
 * bench/soak.test.ts runs it small in CI and checks only that nothing was lost, doubled or
 * refused and that the server's memory came back.
 */
export interface SoakOptions {
  provider: Provider;
  boards: number;
  runsPerBoard: number;
  eventsPerSecond: number;
  /** Reading followers of each run, and of each board. */
  runFollowers: number;
  boardFollowers: number;
  /** Subscribers that never read, in all: half follow runs, half boards. */
  stalled: number;
  seconds: number;
  /** History each run has before the soak (bytes), so that a stalled follower's replay fills its socket at once. */
  historyBytes: number;
  /** The server's stall bound (AGENTBOARD_STALL_MS); its default when unset. */
  stallMs?: number;
  /**
   * How long the server is watched after the subscribers left, at most: the watch ends once its
   * RSS is back within `settleWithinMb` of the start. V8 gives a heap back when the process has
   * been idle a while (its memory reducer), which took 10–25 s after a soak on this machine.
   */
  settleSeconds: number;
  settleWithinMb?: number;
  flushMs?: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  /** `settledMs`: how long after the subscribers left `endMb` was read. */
  rss: { startMb: number; peakMb: number; endMb: number; settledMs: number };
  /** Append call latencies (ms), one sorted list per minute of the soak. */
  appendsByMinute: number[][];
  appended: number;
  deliveries: number;
  errors: string[];
  missing: number;
  duplicates: number;
  /** Stalled subscribers the server had dropped when they woke, and those it still held. */
  drops: number;
  held: number;
  cpu: CpuSpent | null;
}

const ADMIN = "ab_bench_admin_token_soak_0123456789";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;

export function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => undefined);
  const flushMs = o.flushMs ?? 150;
  const db = await createTestDatabase(o.provider);
  const server = await spawnApiServer({
    DATABASE_URL: db.config.provider === "postgresql" ? db.config.url : `file:${db.config.file}`,
    AGENTBOARD_DATA_DIR: db.dir,
    AGENTBOARD_ADMIN_TOKEN: ADMIN,
    AGENTBOARD_POOL_SIZE: "20",
    ...(o.stallMs ? { AGENTBOARD_STALL_MS: String(o.stallMs) } : {}),
  });
  const pid = server.child.pid!;
  const api = createAgentboardClient({ url: server.url, token: ADMIN });
  const errors: string[] = [];
  const fail = (what: string) => (err: unknown) => void errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  const stalledSockets = new Set<Socket>();
  const wakeUps = new Set<NodeJS.Timeout>();
  let leaving = false;
  let drops = 0;
  let held = 0;

  try {
    // The board: runs started and given a history, one card per run.
    const ws = await api.workspace.create.mutate({ name: "Soak", slug: "soak" });
    // The runs are a runner's, as in production: claimed and written with a runner token
    // (the subscribers are the admin's).
    const { token: runnerToken } = await api.token.create.mutate({ workspaceId: ws.id, role: "runner", name: "soak-runner" });
    const runner = createAgentboardClient({ url: server.url, token: runnerToken });
    const project = await api.project.create.mutate({
      workspaceId: ws.id,
      name: "soak",
      repoPath: initRepo(join(db.dir, "repos", "soak"), { "README.md": "soak\n" }),
    });
    const boards: { id: string; runs: { id: string; leaseToken: string; appended: number }[] }[] = [];
    // Incompressible, as logs mostly are: PostgreSQL would store a repeated letter in a few bytes.
    const history = randomBytes(48 * 1024).toString("base64");
    for (let b = 0; b < o.boards; b++) {
      const board = await api.board.create.mutate({ workspaceId: ws.id, name: `Soak ${b}` });
      const runs = [];
      for (let r = 0; r < o.runsPerBoard; r++) {
        const card = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: `run ${b}.${r}` });
        const run = await api.run.create.mutate({ cardId: card.id, engine: "command", command: "true" });
        const claim = await runner.run.claim.mutate({ workspaceId: ws.id, runId: run.id });
        await runner.run.start.mutate({ runId: run.id, leaseToken: claim!.leaseToken });
        for (let left = Math.ceil(o.historyBytes / history.length); left > 0; left -= 16) {
          const events = Array.from({ length: Math.min(16, left) }, () => ({ type: "command.output", payload: { text: history } }));
          await runner.run.appendEvents.mutate({ runId: run.id, leaseToken: claim!.leaseToken, events });
        }
        runs.push({ id: run.id, leaseToken: claim!.leaseToken, appended: 0 });
      }
      boards.push({ id: board.id, runs });
    }
    const allRuns = boards.flatMap((b) => b.runs);
    log(`seeded ${o.boards} boards × ${o.runsPerBoard} runs, ${(o.historyBytes / 1024 / 1024).toFixed(1)} MB of history each`);

    await sleep(2_000); // the seeding's garbage settles before the start is measured
    const rss = { startMb: rssMb(pid), peakMb: 0, endMb: NaN, settledMs: NaN };
    const sampler = setInterval(() => (rss.peakMb = Math.max(rss.peakMb, rssMb(pid))), 500);

    // Reading followers: every run event exactly once, in order.
    let deliveries = 0;
    let duplicates = 0;
    const seqAtStart = new Map<string, number>();
    for (const run of allRuns) seqAtStart.set(run.id, (await api.run.byId.query({ runId: run.id })).eventSeq);
    // Watching live: from the run's current event on, not its history.
    const runFollowers = allRuns.flatMap((run) =>
      Array.from({ length: o.runFollowers }, () => {
        const seen = { last: seqAtStart.get(run.id)! };
        let ready!: () => void;
        const started = new Promise<void>((r) => (ready = r));
        const sub = api.run.onEvents.subscribe(
          { runId: run.id, lastEventId: seen.last },
          {
            onStarted: () => ready(),
            onData: ({ data }) => {
              deliveries++;
              if (data.seq <= seen.last) duplicates++;
              else if (data.seq !== seen.last + 1) fail(`run follower of ${run.id}`)(new Error(`gap after seq ${seen.last}: got ${data.seq}`));
              seen.last = Math.max(seen.last, data.seq);
            },
            onError: fail(`run follower of ${run.id}`),
          },
        );
        return { run, seen, sub, started };
      }),
    );
    const boardFollowers = await Promise.all(
      boards.flatMap((board) =>
        Array.from({ length: o.boardFollowers }, async () => {
          const { lastEventId } = await api.board.cursor.query({ boardId: board.id });
          const ids = new Set<number>();
          let ready!: () => void;
          const started = new Promise<void>((r) => (ready = r));
          const sub = api.board.onChanges.subscribe(
            { boardId: board.id, lastEventId },
            {
              onStarted: () => ready(),
              onData: (change) => {
                if (!("id" in change) || change.data.kind !== "run") return;
                deliveries++;
                if (ids.has(change.data.id)) duplicates++;
                ids.add(change.data.id);
              },
              onError: fail(`board follower of ${board.id}`),
            },
          );
          return { board, ids, sub, started };
        }),
      ),
    );

    // Subscribers that never read: paused once their stream is open; see the top.
    const { port } = new URL(server.url);
    const wakeEveryMs = Math.max(2_000, 3 * (o.stallMs ?? 30_000));
    const stall = (path: string) => {
      const socket = connect(Number(port), "127.0.0.1");
      stalledSockets.add(socket);
      socket.on("error", () => undefined);
      socket.once("data", () => socket.pause());
      socket.write(`GET ${path} HTTP/1.1\r\nHost: soak\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`);
      const wake = setTimeout(async () => {
        wakeUps.delete(wake);
        socket.resume();
        // What the kernel still holds is read first; under load that takes a while.
        const dropped = await Promise.race([once(socket, "close").then(() => true), sleep(15_000).then(() => false)]);
        if (dropped) drops++;
        else held++;
        socket.destroy();
        stalledSockets.delete(socket);
        if (!leaving) stall(path);
      }, wakeEveryMs);
      wakeUps.add(wake);
    };
    const input = (v: unknown) => encodeURIComponent(JSON.stringify({ json: v }));
    for (let i = 0; i < o.stalled; i++) {
      if (i % 2 === 0) stall(`/api/trpc/run.onEvents?input=${input({ runId: allRuns[i % allRuns.length]!.id })}`);
      else stall(`/api/trpc/board.onChanges?input=${input({ boardId: boards[i % boards.length]!.id })}`);
    }
    await Promise.all([...runFollowers, ...boardFollowers].map((f) => f.started));
    log(`${runFollowers.length} run followers, ${boardFollowers.length} board followers and ${o.stalled} that never read are subscribed`);

    // Writers: each run sends what it owes every flushMs, one call in flight at a time.
    const t0 = Date.now();
    const meter = cpuMeter([pid]);
    const appendsByMinute: number[][] = [];
    let stop = false;
    const writers = allRuns.map(async (run, i) => {
      await sleep((i * flushMs) / allRuns.length);
      let owed = 0;
      let last = Date.now();
      while (!stop) {
        const started = Date.now();
        owed += ((started - last) / 1000) * o.eventsPerSecond;
        last = started;
        // At most one call's worth (500 events); a writer held up by a slow server sends the rest next.
        const n = Math.min(500, Math.max(1, Math.floor(owed)));
        owed -= n;
        const events = Array.from({ length: n }, (_, k) => ({ type: "agent.message", payload: { role: "assistant", text: `soak ${run.appended + k}` } }));
        try {
          await runner.run.appendEvents.mutate({ runId: run.id, leaseToken: run.leaseToken, events });
          run.appended += n;
          (appendsByMinute[Math.floor((started - t0) / 60_000)] ??= []).push(Date.now() - started);
        } catch (err) {
          fail(`append to ${run.id}`)(err);
        }
        await sleep(Math.max(0, flushMs - (Date.now() - started)));
      }
    });
    const heartbeats = setInterval(() => {
      for (const run of allRuns) void runner.run.heartbeat.mutate({ runId: run.id, leaseToken: run.leaseToken }).catch(fail(`heartbeat of ${run.id}`));
    }, 10_000);
    const progress = setInterval(
      () =>
        log(
          `  ${Math.round((Date.now() - t0) / 1000)} s: server RSS ${rssMb(pid).toFixed(0)} MB, ${deliveries} deliveries, ${drops} stalled subscribers dropped`,
        ),
      60_000,
    );
    await sleep(o.seconds * 1000);
    stop = true;
    await Promise.all(writers);
    clearInterval(heartbeats);
    clearInterval(progress);
    const cpu = meter?.spent() ?? null;

    // Every reading follower catches up with everything appended, once.
    const runEvents = new Map<string, number>();
    for (const run of allRuns) runEvents.set(run.id, (await api.run.byId.query({ runId: run.id })).eventSeq);
    const expectedOnBoard = (board: (typeof boards)[number]) => board.runs.reduce((sum, r) => sum + r.appended, 0);
    const caughtUp = () =>
      runFollowers.every((f) => f.seen.last >= runEvents.get(f.run.id)!) && boardFollowers.every((f) => f.ids.size >= expectedOnBoard(f.board));
    for (const deadline = Date.now() + 60_000; !caughtUp() && Date.now() < deadline; ) await sleep(100);
    let missing = 0;
    for (const f of runFollowers) missing += Math.max(0, runEvents.get(f.run.id)! - f.seen.last);
    for (const f of boardFollowers) missing += Math.max(0, expectedOnBoard(f.board) - f.ids.size);

    // The subscribers leave; the server should give back what they cost.
    leaving = true;
    for (const f of [...runFollowers, ...boardFollowers]) f.sub.unsubscribe();
    for (const t of wakeUps) clearTimeout(t);
    for (const s of stalledSockets) s.destroy();
    const left = Date.now();
    const within = o.settleWithinMb ?? 0;
    for (const deadline = left + o.settleSeconds * 1000; ; await sleep(500)) {
      rss.endMb = rssMb(pid);
      rss.settledMs = Date.now() - left;
      if (rss.endMb - rss.startMb <= within || Date.now() >= deadline) break;
    }
    clearInterval(sampler);
    for (const xs of appendsByMinute) xs?.sort((a, b) => a - b);
    return {
      rss,
      appendsByMinute: Array.from(appendsByMinute, (xs) => xs ?? []),
      appended: allRuns.reduce((sum, r) => sum + r.appended, 0),
      deliveries,
      errors,
      missing,
      duplicates,
      drops,
      held,
      cpu,
    };
  } finally {
    leaving = true;
    for (const t of wakeUps) clearTimeout(t);
    for (const s of stalledSockets) s.destroy();
    await server.stop();
    await db.drop();
  }
}
