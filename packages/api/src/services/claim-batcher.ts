import type { ClaimantLease, Claimed, DialectSql } from "@agentboard/db";

/**
 * Group claiming: while a claim statement runs for one scope (workspace, board, labels),
 * the claims that arrive for the same scope wait, then go together in the next statement,
 * each claimant paired with its own run. A lone claim goes at once, so an idle server adds
 * no latency; under load the database does one statement for many runners instead of one
 * each (on PostgreSQL, ~4× less database CPU per claim at 16 concurrent claimers).
 */
export interface ClaimScope {
  workspaceId: string;
  boardId: string | null;
  labels: string[];
  leaseMs: number;
}

interface Waiting {
  claimant: ClaimantLease;
  resolve(claimed: Claimed | null): void;
  reject(err: unknown): void;
}

interface Lane {
  scope: ClaimScope;
  waiting: Waiting[];
}

/** The most claimants one statement serves. */
const MAX_BATCH = 64;

const lanesBySql = new WeakMap<DialectSql, Map<string, Lane>>();

export function claimNextBatched(sql: DialectSql, scope: ClaimScope, claimant: ClaimantLease): Promise<Claimed | null> {
  let lanes = lanesBySql.get(sql);
  if (!lanes) lanesBySql.set(sql, (lanes = new Map()));
  const labels = [...new Set(scope.labels)].sort();
  const key = JSON.stringify([scope.workspaceId, scope.boardId, labels, scope.leaseMs]);
  return new Promise<Claimed | null>((resolve, reject) => {
    const lane = lanes.get(key);
    if (lane) {
      lane.waiting.push({ claimant, resolve, reject });
      return;
    }
    const fresh: Lane = { scope: { ...scope, labels }, waiting: [{ claimant, resolve, reject }] };
    lanes.set(key, fresh);
    void drain(sql, lanes, key, fresh);
  });
}

async function drain(sql: DialectSql, lanes: Map<string, Lane>, key: string, lane: Lane): Promise<void> {
  try {
    while (lane.waiting.length > 0) {
      const batch = lane.waiting.splice(0, MAX_BATCH);
      try {
        const claimed = await sql.claimNext({ ...lane.scope, claimants: batch.map((w) => w.claimant) });
        for (const [i, w] of batch.entries()) w.resolve(claimed[i] ?? null);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
  } finally {
    lanes.delete(key);
  }
}
