import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testProviders, type TestDatabase } from "@agentboard/testkit";
import { createDatabase, type Database } from "../client.js";
import { migrate } from "../migrate.js";
import { fromRowJson } from "./rows.js";

// The PostgreSQL queue returns rows it read itself (row_to_json) instead of through the
// client; they must be indistinguishable from the client's.
describe.runIf(testProviders.includes("postgresql"))("rows read by the PostgreSQL queue", () => {
  let tdb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    tdb = await createTestDatabase("postgresql");
    await migrate(tdb.config);
    db = createDatabase(tdb.config);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it("equal the client's reads for runs and projects, every field set or null", async () => {
    const p = db.prisma;
    const ws = await p.workspace.create({ data: { name: "W", slug: "w" } });
    const board = await p.board.create({ data: { workspaceId: ws.id, name: "B" } });
    const project = await p.project.create({
      data: {
        workspaceId: ws.id,
        name: "P",
        repoPath: "/r",
        remoteUrl: "file:///r",
        setupScript: "s",
        testCommand: "t",
        hooks: { pre: ["true"] },
        sandbox: { network: { agent: "allowlist" }, allowlist: ["example.com"] },
      },
    });
    const bare = await p.project.create({ data: { workspaceId: ws.id, name: "Q", repoPath: "/q" } });
    const card = await p.card.create({ data: { boardId: board.id, projectId: project.id, title: "T" } });
    const runner = await p.runner.create({ data: { workspaceId: ws.id, name: "r" } });
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 2, 3, 4, 5) + ms);
    const full = await p.run.create({
      data: {
        workspaceId: ws.id,
        boardId: board.id,
        cardId: card.id,
        projectId: project.id,
        runnerId: runner.id,
        status: "running",
        prompt: "p",
        engine: "claude_code",
        model: "m",
        command: "c",
        maxTurns: 3,
        timeoutMs: 1000,
        budgetUsd: 1.5,
        branch: "b",
        baseBranch: "main",
        leaseToken: "l",
        leaseExpiresAt: at(1),
        heartbeatAt: at(2),
        cancelRequestedAt: at(3),
        cancelRequestedBy: "x",
        worktreePath: "/w",
        summary: "s",
        filesChanged: ["a"],
        diff: "d",
        diffHash: "h",
        diffStat: { files: 1, additions: 2, deletions: 3 },
        testsRun: true,
        testsPassed: false,
        testOutput: "o",
        logs: "l",
        tokensIn: 2n ** 40n,
        tokensOut: 2,
        costUsd: 0.125,
        toolCalls: 4,
        durationMs: 5,
        error: "e",
        errorReason: "timeout",
        createdBy: "c",
        mergedBy: "m",
        mergeCommit: "mc",
        closedBy: "cb",
        closedReason: "cr",
        labels: ["x"],
        priority: 7,
        attempt: 2,
        maxAttempts: 4,
        eventSeq: 9,
        claimedAt: at(4),
        startedAt: at(5),
        finishedAt: at(6),
        mergedAt: at(7),
      },
    });
    const empty = await p.run.create({
      data: { workspaceId: ws.id, boardId: board.id, cardId: card.id, projectId: bare.id, prompt: "p", engine: "command", branch: "b2", baseBranch: "main" },
    });

    for (const run of [full, empty]) {
      const { rows } = await db.pool!.query<{ j: Record<string, unknown> }>("SELECT row_to_json(r) AS j FROM runs r WHERE id = $1", [run.id]);
      expect(fromRowJson(rows[0]!.j)).toEqual(await p.run.findUniqueOrThrow({ where: { id: run.id }, omit: { leaseToken: false } }));
    }
    for (const proj of [project, bare]) {
      const { rows } = await db.pool!.query<{ j: Record<string, unknown> }>("SELECT row_to_json(p) AS j FROM projects p WHERE id = $1", [proj.id]);
      expect(fromRowJson(rows[0]!.j)).toEqual(await p.project.findUniqueOrThrow({ where: { id: proj.id } }));
    }
  });
});

// Both queues return the run, project and checks of a claim from their own SQL: what they
// return must be what the client reads afterwards, every field set or null.
describe.each(testProviders)("a claim's rows on %s", (provider) => {
  let tdb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    tdb = await createTestDatabase(provider);
    await migrate(tdb.config);
    db = createDatabase(tdb.config);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it("equal the client's reads", async () => {
    const p = db.prisma;
    const ws = await p.workspace.create({ data: { name: "W", slug: "w" } });
    const board = await p.board.create({ data: { workspaceId: ws.id, name: "B" } });
    const project = await p.project.create({
      data: {
        workspaceId: ws.id,
        name: "P",
        repoPath: "/r",
        remoteUrl: "file:///r",
        setupScript: "s",
        testCommand: "t",
        hooks: { pre: ["true"] },
        sandbox: { network: { agent: "open" } },
      },
    });
    const bare = await p.project.create({ data: { workspaceId: ws.id, name: "Q", repoPath: "/q" } });
    const card = await p.card.create({ data: { boardId: board.id, projectId: project.id, title: "T" } });
    const runner = await p.runner.create({ data: { workspaceId: ws.id, name: "r" } });
    const full = await p.run.create({
      data: {
        workspaceId: ws.id,
        boardId: board.id,
        cardId: card.id,
        projectId: project.id,
        prompt: "p",
        engine: "claude_code",
        model: "m",
        command: "c",
        maxTurns: 3,
        timeoutMs: 1000,
        budgetUsd: 1.5,
        branch: "b",
        baseBranch: "main",
        cancelRequestedAt: new Date(Date.UTC(2026, 0, 2)),
        summary: "s",
        filesChanged: ["a"],
        diffStat: { files: 1, additions: 2, deletions: 3 },
        testsRun: true,
        testsPassed: false,
        tokensIn: 2n ** 40n,
        costUsd: 0.125,
        labels: ["x"],
        priority: 7,
        eventSeq: 9,
        dodItems: {
          create: [
            { key: "tests", title: "Tests", check: "npm test", autoValidate: true, position: 1 },
            { key: "docs", title: "Docs", required: false, position: 0 },
            { key: "lint", title: "Lint", check: "lint", required: false, position: 2 },
          ],
        },
      },
    });
    const empty = await p.run.create({
      data: { workspaceId: ws.id, boardId: board.id, cardId: card.id, projectId: bare.id, prompt: "p", engine: "command", branch: "b2", baseBranch: "main" },
    });
    for (const run of [full, empty]) {
      const got = await db.sql.claimById({
        runId: run.id,
        workspaceId: ws.id,
        runnerId: runner.id,
        leaseToken: `t-${run.id}`,
        leaseMs: 30_000,
        event: { actor: "a", payload: {} },
      });
      expect(got).not.toBeNull();
      expect(got!.run).toEqual(await p.run.findUniqueOrThrow({ where: { id: run.id } }));
      expect(got!.project).toEqual(await p.project.findUniqueOrThrow({ where: { id: run.projectId } }));
      expect(got!.checks).toEqual(
        await p.dodItem.findMany({
          where: { runId: run.id, check: { not: null } },
          orderBy: { position: "asc" },
          select: { id: true, key: true, title: true, check: true, autoValidate: true, required: true },
        }),
      );
    }
    expect(
      await db.sql.claimById({
        runId: full.id,
        workspaceId: ws.id,
        runnerId: runner.id,
        leaseToken: "again",
        leaseMs: 30_000,
        event: { actor: "a", payload: {} },
      }),
    ).toBeNull();
  });
});
