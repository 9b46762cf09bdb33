import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testProviders, type TestDatabase } from "@agentboard/testkit";
import { createDatabase, type Database } from "../client.js";
import { migrate } from "../migrate.js";
import { PREFERRED_QUEUED as PG_PREFERRED_QUEUED } from "./postgresql.js";
import { PREFERRED_QUEUED as SQLITE_PREFERRED_QUEUED } from "./sqlite.js";

/**
 * Every claim first asks for the claimant's preferred follow-ups. With a long queue that
 * question must not cost the length of the queue: it walked the workspace's whole queue
 * through the claim-order index (4 ms at 6,000 queued runs on PostgreSQL, four times the
 * claim itself) until the preferred index also held the claim order. The plans are read
 * right after a bulk enqueue, before any ANALYZE, as a claim meets them then.
 */
const QUEUED = 3_000;

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Rows Removed by Filter"?: number;
  Plans?: PlanNode[];
}

function* nodes(plan: PlanNode): Generator<PlanNode> {
  yield plan;
  for (const child of plan.Plans ?? []) yield* nodes(child);
}

describe.each(testProviders)("the preferred follow-ups query on %s", (provider) => {
  let tdb: TestDatabase;
  let db: Database;
  let args: { runnerId: string; workspaceId: string; preferred: string[] };

  beforeAll(async () => {
    tdb = await createTestDatabase(provider);
    await migrate(tdb.config);
    db = createDatabase(tdb.config);
    const p = db.prisma;
    const ws = await p.workspace.create({ data: { name: "W", slug: "w" } });
    const board = await p.board.create({ data: { workspaceId: ws.id, name: "B" } });
    const project = await p.project.create({ data: { workspaceId: ws.id, name: "P", repoPath: "/r" } });
    const card = await p.card.create({ data: { boardId: board.id, projectId: project.id, title: "T" } });
    const runner = await p.runner.create({ data: { workspaceId: ws.id, name: "r" } });
    const scope = {
      workspaceId: ws.id,
      boardId: board.id,
      cardId: card.id,
      projectId: project.id,
      prompt: "p",
      engine: "command" as const,
      baseBranch: "main",
    };
    for (let i = 0; i < QUEUED; i += 1000) {
      await p.run.createMany({ data: Array.from({ length: 1000 }, (_, j) => ({ ...scope, branch: `b-${i + j}` })) });
    }
    const preferred = await Promise.all(
      [0, 1].map(async (i) => (await p.run.create({ data: { ...scope, branch: `follow-up-${i}`, preferredRunnerId: runner.id, priority: i } })).id),
    );
    args = { runnerId: runner.id, workspaceId: ws.id, preferred };
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it("finds them, highest priority first", async () => {
    const got = await db.sql.preferredQueued({ runnerId: args.runnerId, workspaceId: args.workspaceId, boardId: null, limit: 3 });
    expect(got).toEqual([...args.preferred].reverse());
  });

  it("tells which workspaces have a queued run: not one with only claimed or finished runs, not an unknown id", async () => {
    const p = db.prisma;
    const other = await p.workspace.create({ data: { name: "O", slug: "o" } });
    const board = await p.board.create({ data: { workspaceId: other.id, name: "B" } });
    const project = await p.project.create({ data: { workspaceId: other.id, name: "P", repoPath: "/o" } });
    const card = await p.card.create({ data: { boardId: board.id, projectId: project.id, title: "T" } });
    const run = {
      workspaceId: other.id,
      boardId: board.id,
      cardId: card.id,
      projectId: project.id,
      prompt: "p",
      engine: "command" as const,
      baseBranch: "main",
    };
    await p.run.create({ data: { ...run, branch: "claimed", status: "claimed" } });
    await p.run.create({ data: { ...run, branch: "done", status: "succeeded" } });
    expect(await db.sql.queuedWorkspaces([args.workspaceId, other.id, "no-such-workspace"])).toEqual(new Set([args.workspaceId]));
    expect(await db.sql.queuedWorkspaces([])).toEqual(new Set());
    const queued = await p.run.create({ data: { ...run, branch: "queued" } });
    expect(await db.sql.queuedWorkspaces([other.id])).toEqual(new Set([other.id]));
    await p.run.delete({ where: { id: queued.id } });
  });

  it("reads only the claimant's preferred runs, not the queue", async () => {
    if (tdb.config.provider === "postgresql") {
      const client = new pg.Client({ connectionString: tdb.config.url });
      await client.connect();
      try {
        // A named statement runs on a generic plan once the server settles on one: plan it so now.
        await client.query("SET plan_cache_mode = force_generic_plan");
        await client.query(`PREPARE preferred(text, text, text, int) AS ${PG_PREFERRED_QUEUED([]).text}`);
        const { rows } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
          `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE preferred(${client.escapeLiteral(args.runnerId)}, ${client.escapeLiteral(args.workspaceId)}, NULL, 3)`,
        );
        const scans = [...nodes(rows[0]!["QUERY PLAN"][0].Plan)].filter((n) => n["Relation Name"] === "runs");
        const read = scans.reduce((sum, n) => sum + (n["Actual Rows"] ?? 0) * (n["Actual Loops"] ?? 1) + (n["Rows Removed by Filter"] ?? 0), 0);
        expect(scans.map((n) => n["Index Name"])).toContain("runs_preferred_runner_id_status_priority_created_at_id_idx");
        expect(read).toBeLessThanOrEqual(args.preferred.length);
      } finally {
        await client.end();
      }
    } else {
      const conn = new BetterSqlite3(tdb.config.file, { readonly: true });
      try {
        const plan = conn.prepare(`EXPLAIN QUERY PLAN ${SQLITE_PREFERRED_QUEUED}`).all(args.runnerId, args.workspaceId, null, null, 3) as { detail: string }[];
        const runsScan = plan.map((r) => r.detail).find((d) => /^(SEARCH|SCAN) runs\b/.test(d));
        expect(runsScan).toMatch(/USING INDEX runs_preferred_runner_id_status_priority_created_at_id_idx \(preferred_runner_id=\? AND status=\?\)/);
        // The index gives the claim order: no sort of what it finds.
        expect(plan.map((r) => r.detail)).not.toContain("USE TEMP B-TREE FOR ORDER BY");
      } finally {
        conn.close();
      }
    }
  });
});
