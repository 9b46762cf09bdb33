import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testProviders, type TestDatabase } from "@agentboard/testkit";
import { createDatabase, tuneSqlite, type Database } from "./client.js";
import { migrate, migrationsDir, readMigrations } from "./migrate.js";

describe.each(testProviders)("migrations on %s", (provider) => {
  let tdb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    tdb = await createTestDatabase(provider);
  });
  afterAll(async () => {
    await db?.close();
    await tdb.drop();
  });

  it("applies every migration to a fresh database, records it Prisma's way, and is idempotent", async () => {
    const all = readMigrations(migrationsDir(provider));
    expect(all.length).toBeGreaterThan(0);
    const first = await migrate(tdb.config);
    expect(first.applied).toEqual(all.map((m) => m.name));
    const second = await migrate(tdb.config);
    expect(second).toEqual({ applied: [], alreadyApplied: all.length });

    db = createDatabase(tdb.config);
    await tuneSqlite(db);
    const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string; checksum: string; applied_steps_count: number | bigint }[]>(
      `SELECT migration_name, checksum, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => [r.migration_name, r.checksum, Number(r.applied_steps_count)])).toEqual(all.map((m) => [m.name, m.checksum, 1]));
  });

  it("refuses a migration that was edited after it was applied", async () => {
    const dir = migrationsDir(provider);
    const [m] = readMigrations(dir);
    await db.prisma.$executeRawUnsafe(`UPDATE "_prisma_migrations" SET checksum = 'tampered' WHERE migration_name = '${m!.name}'`);
    await expect(migrate(tdb.config)).rejects.toThrow(/checksum mismatch/);
    await db.prisma.$executeRawUnsafe(`UPDATE "_prisma_migrations" SET checksum = '${m!.checksum}' WHERE migration_name = '${m!.name}'`);
  });

  it("round-trips every model through the client", async () => {
    const p = db.prisma;
    const ws = await p.workspace.create({ data: { name: "W", slug: "w", budgetUsd: 12.5 } });
    const board = await p.board.create({ data: { workspaceId: ws.id, name: "B" } });
    const project = await p.project.create({
      data: {
        workspaceId: ws.id,
        name: "P",
        repoPath: "/r",
        baseBranch: "main",
        remoteUrl: "file:///r",
        setupScript: "npm ci",
        testCommand: "npm test",
        hooks: { pre: ["true"] },
      },
    });
    const card = await p.card.create({ data: { boardId: board.id, projectId: project.id, title: "T", labels: ["a", "b"], column: "todo", position: 1.5 } });
    const wf = await p.workflow.create({
      data: { workspaceId: ws.id, name: "wf", promptTemplate: "{{card.title}}", engine: "claude_code", dod: [{ key: "k", title: "K", required: true }] },
    });
    const runner = await p.runner.create({ data: { workspaceId: ws.id, name: "r1", labels: ["gpu"], capacity: 2 } });
    const lease = new Date(Date.now() + 30_000);
    const run = await p.run.create({
      data: {
        workspaceId: ws.id,
        boardId: board.id,
        cardId: card.id,
        projectId: project.id,
        workflowId: wf.id,
        runnerId: runner.id,
        status: "running",
        prompt: "do",
        engine: "anthropic",
        model: "claude-sonnet-4-5",
        branch: "agentboard/t-1",
        baseBranch: "main",
        leaseToken: "tok",
        leaseExpiresAt: lease,
        filesChanged: ["a.ts"],
        diffStat: { files: 1, additions: 2, deletions: 0 },
        testsRun: true,
        testsPassed: false,
        tokensIn: 10,
        tokensOut: 5,
        costUsd: 0.25,
        toolCalls: 3,
        labels: ["gpu"],
      },
    });
    const event = await p.runEvent.create({ data: { runId: run.id, seq: 1, type: "run.started", actor: "runner:r1", payload: { nested: { ok: true } } } });
    const wt = await p.worktree.create({
      data: { runId: run.id, projectId: project.id, runnerId: runner.id, path: "/w/1", branch: run.branch, sizeBytes: 1234 },
    });
    const item = await p.dodItem.create({ data: { runId: run.id, key: "tests", title: "Tests", required: true, check: "npm test", autoValidate: true } });
    const ev = await p.dodEvidence.create({
      data: { itemId: item.id, runId: run.id, kind: "check", command: "npm test", exitCode: 0, durationMs: 12, text: "ok", createdBy: "runner:r1" },
    });
    const token = await p.apiToken.create({ data: { workspaceId: ws.id, name: "t", role: "viewer", tokenHash: "h", prefix: "ab_" } });

    expect(await p.workspace.findUniqueOrThrow({ where: { id: ws.id } })).toMatchObject({ slug: "w", budgetUsd: 12.5, spentUsd: 0 });
    expect(await p.project.findUniqueOrThrow({ where: { id: project.id } })).toMatchObject({ hooks: { pre: ["true"] }, testCommand: "npm test" });
    expect(await p.card.findUniqueOrThrow({ where: { id: card.id } })).toMatchObject({ labels: ["a", "b"], column: "todo", position: 1.5, description: "" });
    expect(await p.workflow.findUniqueOrThrow({ where: { id: wf.id } })).toMatchObject({
      engine: "claude_code",
      dod: [{ key: "k", title: "K", required: true }],
    });
    expect(await p.runner.findUniqueOrThrow({ where: { id: runner.id } })).toMatchObject({ labels: ["gpu"], capacity: 2 });
    const gotRun = await p.run.findUniqueOrThrow({ where: { id: run.id } });
    // Secrets are left out of reads unless asked for by name.
    expect("leaseToken" in gotRun).toBe(false);
    expect(await p.run.findUniqueOrThrow({ where: { id: run.id }, select: { leaseToken: true } })).toEqual({ leaseToken: "tok" });
    expect(gotRun).toMatchObject({
      tokensIn: 10n,
      tokensOut: 5n,
      status: "running",
      filesChanged: ["a.ts"],
      diffStat: { files: 1, additions: 2, deletions: 0 },
      testsPassed: false,
      toolCalls: 3,
      eventSeq: 0,
      attempt: 0,
      maxAttempts: 3,
    });
    expect(gotRun.leaseExpiresAt?.getTime()).toBe(lease.getTime());
    expect(gotRun.costUsd).toBeCloseTo(0.25);
    expect(await p.runEvent.findUniqueOrThrow({ where: { id: event.id } })).toMatchObject({ payload: { nested: { ok: true } }, seq: 1 });
    expect(await p.worktree.findUniqueOrThrow({ where: { id: wt.id } })).toMatchObject({ sizeBytes: 1234n, removedAt: null });
    expect(await p.dodItem.findUniqueOrThrow({ where: { id: item.id } })).toMatchObject({ status: "pending", autoValidate: true });
    expect(await p.dodEvidence.findUniqueOrThrow({ where: { id: ev.id } })).toMatchObject({ kind: "check", exitCode: 0 });
    expect(await p.apiToken.findUniqueOrThrow({ where: { id: token.id } })).toMatchObject({ role: "viewer", revokedAt: null });

    // (run_id, seq) is unique: the event log cannot fork.
    await expect(p.runEvent.create({ data: { runId: run.id, seq: 1, type: "x", actor: "y" } })).rejects.toThrow();
    // Deleting a workspace takes everything in it.
    await p.workspace.delete({ where: { id: ws.id } });
    expect(await p.runEvent.count()).toBe(0);
    expect(await p.run.count()).toBe(0);
  });
});
