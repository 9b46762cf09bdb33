import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentboardClient, type AgentboardClient } from "@agentboard/client";
import { join } from "node:path";
import { createTestDatabase, initRepo, testProviders, type TestDatabase } from "@agentboard/testkit";
import { startApiProcess, type ApiProcess } from "./testing/api-process";
import { followRun, range } from "./testing/follow";

/**
 * The live streams over real HTTP and SSE, with the API in separate processes: resume
 * after a dropped connection, a server restarted mid-stream, and (PostgreSQL) two replicas
 * where a write through one reaches a subscriber of the other.
 */
const ADMIN = "ab_test_admin_token_for_live_streams";

type OnChangesHandlers = NonNullable<Parameters<AgentboardClient["board"]["onChanges"]["subscribe"]>[1]>;
type BoardChange = Parameters<NonNullable<OnChangesHandlers["onData"]>>[0];

describe.each(testProviders)("live streams over HTTP on %s", (provider) => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let a: ApiProcess;
  let client: AgentboardClient;
  let seed: { workspaceId: string; boardId: string; projectId: string; cardId: string };

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    env = {
      DATABASE_URL: db.config.provider === "postgresql" ? db.config.url : `file:${db.config.file}`,
      AGENTBOARD_DATA_DIR: db.dir,
      AGENTBOARD_ADMIN_TOKEN: ADMIN,
      AGENTBOARD_REAPER_MS: "60000",
    };
    a = await startApiProcess(env);
    client = createAgentboardClient({ url: a.url, token: ADMIN });
    const ws = await client.workspace.create.mutate({ name: "Streams", slug: "streams" });
    const board = await client.board.create.mutate({ workspaceId: ws.id, name: "Live" });
    const repo = initRepo(join(db.dir, "repos", "app"), { "README.md": "# app\n" });
    const project = await client.project.create.mutate({ workspaceId: ws.id, name: "app", repoPath: repo });
    const card = await client.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Stream me" });
    seed = { workspaceId: ws.id, boardId: board.id, projectId: project.id, cardId: card.id };
  });

  afterAll(async () => {
    await a?.stop();
    await db?.drop();
  });

  /** A running run whose events we write through the runner protocol (the admin may act as a runner). */
  async function runningRun(through: AgentboardClient = client, cardId = seed.cardId) {
    const run = await through.run.create.mutate({ cardId, engine: "command", command: "true" });
    const claim = await through.run.claim.mutate({ workspaceId: seed.workspaceId, runId: run.id });
    if (!claim) throw new Error("claim returned nothing");
    await through.run.start.mutate({ runId: run.id, leaseToken: claim.leaseToken });
    const append = (n: number, via: AgentboardClient = through) =>
      via.run.appendEvents.mutate({
        runId: run.id,
        leaseToken: claim.leaseToken,
        events: Array.from({ length: n }, (_, i) => ({ type: "agent.message", payload: { role: "assistant", text: `message ${i}` } })),
      });
    return { run, append };
  }

  it("resumes from lastEventId after a dropped connection: everything missed, nothing twice", async () => {
    const { run, append } = await runningRun();
    const first = followRun(client, run.id);
    await first.until(3); // queued, claimed, started
    await append(5);
    await first.until(8);
    first.stop();
    expect(first.seqs).toEqual(range(1, 8));

    await append(7); // written while nobody listens
    const resumed = followRun(client, run.id, 8);
    await resumed.until(15);
    await append(1);
    await resumed.until(16);
    resumed.stop();
    expect(resumed.seqs).toEqual(range(9, 16));
  });

  it("a server killed mid-stream and started again: the client reconnects by itself and resumes", async () => {
    const { run, append } = await runningRun();
    const follower = followRun(client, run.id);
    await append(4);
    await follower.until(7);

    const port = new URL(a.url).port;
    await a.stop("SIGKILL");
    a = await startApiProcess({ ...env, PORT: port });
    // Written before the subscriber has found its way back: it must get these on resume.
    await append(6);
    await follower.until(13, 45_000);
    await append(2);
    await follower.until(15);
    follower.stop();
    expect(follower.seqs).toEqual(range(1, 15));
  });

  it("board.onChanges: run events are tracked with the run's status, card edits arrive as a signal", async () => {
    const { lastEventId } = await client.board.cursor.query({ boardId: seed.boardId });
    const changes: BoardChange[] = [];
    let wake: (() => void) | null = null;
    let started!: () => void;
    const connected = new Promise<void>((r) => (started = r));
    const sub = client.board.onChanges.subscribe(
      { boardId: seed.boardId, lastEventId },
      {
        onStarted: () => started(),
        onData: (c) => {
          changes.push(c);
          wake?.();
        },
      },
    );
    const waitFor = async (pred: (c: BoardChange) => boolean, ms = 20_000) => {
      const deadline = Date.now() + ms;
      while (!changes.some(pred)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(changes)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 500);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
    };
    try {
      await connected;
      // The stream says "connected" a moment before the server-side generator listens:
      // an edit in that moment is not signalled (a client re-reads the cards on connect).
      for (let attempt = 0; !changes.length && attempt < 5; attempt++) {
        await client.card.create.mutate({ boardId: seed.boardId, projectId: seed.projectId, title: "Made elsewhere" });
        await waitFor((c) => "kind" in c && c.kind === "cards", 2_000).catch(() => undefined);
      }
      // Card signals only: nothing from before the cursor was replayed.
      expect(changes.length).toBeGreaterThan(0);
      expect(changes.every((c) => "kind" in c)).toBe(true);
      const { run } = await runningRun();
      const isRun = (c: BoardChange, type: string) => "id" in c && c.data.kind === "run" && c.data.type === type;
      await waitFor((c) => isRun(c, "run.started"));
      const started = changes.find((c) => isRun(c, "run.started"));
      expect(started && "id" in started ? started.data : null).toMatchObject({ kind: "run", cardId: seed.cardId, status: "running" });
      await client.run.cancel.mutate({ runId: run.id });
      await waitFor((c) => isRun(c, "run.cancel_requested"));
    } finally {
      sub.unsubscribe();
    }
  });

  it("board.onChanges resumes from the last change received: everything missed, nothing twice", async () => {
    const { lastEventId } = await client.board.cursor.query({ boardId: seed.boardId });
    const { run, append } = await runningRun();
    const first = followBoard(lastEventId);
    await append(2);
    await first.until((ids) => ids.length >= 5); // queued, claimed, started and the two appended
    first.stop();

    await append(3); // written while nobody listens
    const resumed = followBoard(first.lastId()!);
    await resumed.until((ids) => ids.length >= 3);
    await client.run.cancel.mutate({ runId: run.id }); // and one more, live
    await resumed.until((ids) => ids.length >= 4);
    resumed.stop();

    const stored = await client.run.events.query({ runId: run.id, limit: 100 });
    expect([...first.ids, ...resumed.ids]).toEqual(stored.map((e) => e.id));
  });

  it("board.onChanges without a cursor starts from a snapshot of the board, not its history", async () => {
    const board = await client.board.create.mutate({ workspaceId: seed.workspaceId, name: "Snapshot" });
    const cardA = await client.card.create.mutate({ boardId: board.id, projectId: seed.projectId, title: "A" });
    const cardB = await client.card.create.mutate({ boardId: board.id, projectId: seed.projectId, title: "B" });
    const a = await runningRun(client, cardA.id);
    await a.append(150);
    const older = await client.run.create.mutate({ cardId: cardB.id, engine: "command", command: "true" });
    await client.run.cancel.mutate({ runId: older.id });
    const latestB = await client.run.create.mutate({ cardId: cardB.id, engine: "command", command: "true" });
    const history = (await Promise.all([a.run.id, older.id, latestB.id].map((runId) => client.run.events.query({ runId, limit: 1000 }))))
      .flat()
      .map((e) => e.id)
      .sort((x, y) => x - y);
    expect(history.length).toBeGreaterThan(150);

    const opened = followBoardChanges(board.id);
    await opened.until((changes) => changes.length >= 101);
    const [snapshot, ...tail] = opened.changes;
    expect(snapshot!.data).toEqual({
      kind: "snapshot",
      runs: [
        { runId: latestB.id, cardId: cardB.id, status: "queued" },
        { runId: a.run.id, cardId: cardA.id, status: "running" },
      ],
    });
    const eventIds = (changes: BoardChange[]) => changes.map((c) => "id" in c && c.data.kind === "run" && c.data.id);
    expect(eventIds(tail)).toEqual(history.slice(-100));
    await a.append(1);
    await opened.until((changes) => changes.length >= 102);
    opened.stop();
    const live = opened.changes.at(-1)!.data;
    expect(live.kind === "run" && live.id).toBeGreaterThan(history.at(-1)!);

    // A follower that got the snapshot resumes at the tail; one that got the tail, after it.
    const resumed = followBoardChanges(board.id, snapshot!.id);
    await resumed.until((changes) => changes.length >= 101);
    resumed.stop();
    expect(eventIds(resumed.changes)).toEqual(eventIds(opened.changes.slice(1)));
    const caughtUp = followBoardChanges(board.id, tail.at(-1)!.id);
    await caughtUp.until((changes) => changes.length >= 1);
    caughtUp.stop();
    expect(eventIds(caughtUp.changes)).toEqual(eventIds(opened.changes.slice(-1)));
  });

  it("a subscription that fails ends with its typed error, which the client does not retry", async () => {
    const failure = (subscribe: (onError: (e: unknown) => void) => { unsubscribe(): void }) =>
      new Promise<unknown>((resolve) => {
        const sub = subscribe((e) => {
          sub.unsubscribe();
          resolve(e);
        });
      });
    const badCursor = await failure((onError) => client.board.onChanges.subscribe({ boardId: seed.boardId, lastEventId: "1:1:~not-a-cursor" }, { onError }));
    expect(badCursor).toMatchObject({ data: { code: "BAD_REQUEST", reason: "BAD_REQUEST", details: { field: "lastEventId" } } });
    const noRun = await failure((onError) => client.run.onEvents.subscribe({ runId: "no-such-run" }, { onError }));
    expect(noRun).toMatchObject({ data: { code: "NOT_FOUND", reason: "NOT_FOUND", details: { id: "no-such-run" } } });
  });

  /** Follows `board.onChanges` over SSE from `lastEventId` (none: from a snapshot), keeping every tracked change. */
  function followBoardChanges(boardId: string, lastEventId?: string) {
    const changes: Extract<BoardChange, { id: string }>[] = [];
    let failure: unknown = null;
    const sub = client.board.onChanges.subscribe(
      { boardId, lastEventId },
      {
        onData: (c) => {
          if ("id" in c) changes.push(c);
        },
        onError: (err) => (failure = err),
      },
    );
    return {
      changes,
      async until(done: (got: typeof changes) => boolean, ms = 20_000) {
        const deadline = Date.now() + ms;
        while (!done(changes)) {
          if (failure) throw failure;
          if (Date.now() > deadline) throw new Error(`timed out; got ${changes.length} changes`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      stop: () => sub.unsubscribe(),
    };
  }

  /** Follows `board.onChanges` over SSE, keeping the run events' ids and the last tracked id. */
  function followBoard(lastEventId: string) {
    const ids: number[] = [];
    let last: string | undefined;
    let failure: unknown = null;
    const sub = client.board.onChanges.subscribe(
      { boardId: seed.boardId, lastEventId },
      {
        onData: (c) => {
          if (!("id" in c) || c.data.kind !== "run") return;
          ids.push(c.data.id);
          last = c.id;
        },
        onError: (err) => (failure = err),
      },
    );
    return {
      ids,
      lastId: () => last,
      async until(done: (ids: number[]) => boolean, ms = 20_000) {
        const deadline = Date.now() + ms;
        while (!done(ids)) {
          if (failure) throw failure;
          if (Date.now() > deadline) throw new Error(`timed out; got ${ids.join(",")}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      stop: () => sub.unsubscribe(),
    };
  }

  // Replicas share PostgreSQL only: the SQLite file is owned by one server process by design.
  it.runIf(provider === "postgresql")("two API processes on one database: a write through one reaches a subscriber of the other", async () => {
    const b = await startApiProcess(env);
    try {
      const viaB = createAgentboardClient({ url: b.url, token: ADMIN });
      const { run, append } = await runningRun(client);
      const onB = followRun(viaB, run.id);
      await onB.until(3);
      const started = Date.now();
      await append(3, client); // written through A
      await onB.until(6, 10_000);
      // LISTEN/NOTIFY wakes B at once; the 5 s fallback poll would be far slower.
      expect(Date.now() - started).toBeLessThan(2_000);
      onB.stop();
      expect(onB.seqs).toEqual(range(1, 6));
    } finally {
      await b.stop();
    }
  });

  it.runIf(provider === "postgresql")("a run written through both replicas in turn reaches followers on both, in order, once", async () => {
    // PostgreSQL only: replicas share a database only there (a SQLite file has one server).
    // Each replica serves its own followers the events it appended from memory and reads
    // the others' from the database; interleaving the writers mixes both.
    const b = await startApiProcess(env);
    try {
      const viaB = createAgentboardClient({ url: b.url, token: ADMIN });
      const { run, append } = await runningRun(client);
      const onA = followRun(client, run.id);
      const onB = followRun(viaB, run.id);
      await Promise.all([onA.until(3), onB.until(3)]);
      let expected = 3;
      for (const [n, via] of [
        [2, client],
        [3, viaB],
        [1, client],
        [4, client],
        [2, viaB],
        [1, client],
      ] as const) {
        await append(n, via);
        expected += n;
      }
      await Promise.all([onA.until(expected, 10_000), onB.until(expected, 10_000)]);
      onA.stop();
      onB.stop();
      expect(onA.seqs).toEqual(range(1, expected));
      expect(onB.seqs).toEqual(range(1, expected));
    } finally {
      await b.stop();
    }
  });
});
