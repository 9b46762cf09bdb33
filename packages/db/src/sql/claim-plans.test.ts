import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testProviders, type TestDatabase } from "@agentboard/testkit";
import { createDatabase, type Database } from "../client.js";
import { migrate } from "../migrate.js";
import { CLAIM_NEXT as PG_CLAIM_NEXT } from "./postgresql.js";
import { PREFERRED_NEXT as SQLITE_PREFERRED_NEXT } from "./sqlite.js";

/**
 * Every claim first looks for the claimant's own follow-ups. With a long queue that must
 * not cost the length of the queue: it walked the workspace's whole queue through the
 * claim-order index (4 ms at 6,000 queued runs on PostgreSQL, four times the claim itself)
 * until the preferred index also held the claim order. The plans are read right after a
 * bulk enqueue, before any ANALYZE, as a claim meets them then.
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

describe.each(testProviders)("what a claim reads on %s", (provider) => {
  let tdb: TestDatabase;
  let db: Database;
  let args: { runnerId: string; otherRunnerId: string; workspaceId: string; preferred: string[] };

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
    const other = await p.runner.create({ data: { workspaceId: ws.id, name: "other" } });
    args = { runnerId: runner.id, otherRunnerId: other.id, workspaceId: ws.id, preferred };
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
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

  it("reads the claimant's own follow-ups, not the queue, and then only the head of the queue", async () => {
    if (tdb.config.provider === "postgresql") {
      const client = new pg.Client({ connectionString: tdb.config.url });
      await client.connect();
      const lit = (v: string) => client.escapeLiteral(v);
      /** What the claim statement reads of `runs` for one claimant of `runnerId` (claimed, then rolled back). */
      const readFor = async (runnerId: string) => {
        await client.query("BEGIN");
        try {
          const { rows } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
            `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE claim(${lit(args.workspaceId)}, NULL, '[]', 30000, ` +
              `ARRAY[${lit(runnerId)}], ARRAY['lease'], ARRAY['runner:x'], ARRAY['{}'::jsonb])`,
          );
          const scans = [...nodes(rows[0]!["QUERY PLAN"][0].Plan)].filter((n) => n["Relation Name"] === "runs" && n["Node Type"] !== "ModifyTable");
          return {
            indexes: scans.map((n) => n["Index Name"]),
            rows: scans.reduce((sum, n) => sum + (n["Actual Rows"] ?? 0) * (n["Actual Loops"] ?? 1) + (n["Rows Removed by Filter"] ?? 0), 0),
          };
        } finally {
          await client.query("ROLLBACK");
        }
      };
      try {
        // A named statement runs on a generic plan once the server settles on one: plan it so now.
        await client.query("SET plan_cache_mode = force_generic_plan");
        await client.query(`PREPARE claim AS ${PG_CLAIM_NEXT([]).text}`);
        const mine = await readFor(args.runnerId);
        expect(mine.indexes).toContain("runs_preferred_runner_id_status_priority_created_at_id_idx");
        // The follow-up, and the update of its row: not the 3,000 queued before it.
        expect(mine.rows).toBeLessThanOrEqual(4);
        const other = await readFor(args.otherRunnerId);
        // Nothing of its own; the head of the queue, past the follow-ups it must leave alone.
        expect(other.rows).toBeLessThanOrEqual(4 + args.preferred.length);
      } finally {
        await client.end();
      }
    } else {
      const conn = new BetterSqlite3(tdb.config.file, { readonly: true });
      try {
        const plan = conn.prepare(`EXPLAIN QUERY PLAN ${SQLITE_PREFERRED_NEXT}`).all(args.runnerId, args.workspaceId, null, null, "[]") as { detail: string }[];
        const runsScan = plan.map((r) => r.detail).find((d) => /^(SEARCH|SCAN) r\b/.test(d));
        expect(runsScan).toMatch(/USING INDEX runs_preferred_runner_id_status_priority_created_at_id_idx \(preferred_runner_id=\? AND status=\?\)/);
        // The index gives the claim order: no sort of what it finds.
        expect(plan.map((r) => r.detail)).not.toContain("USE TEMP B-TREE FOR ORDER BY");
      } finally {
        conn.close();
      }
    }
  });
});
