import { join } from "node:path";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initRepo, testProviders, textOf } from "@agentboard/testkit";
import { listenApi } from "../http/handler.js";
import { appRouter } from "../root.js";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";
import { fuzzCases, jsonSchemaOf } from "./generate.js";

/**
 * `npm run fuzz`: bad inputs for every procedure, generated from its zod schema, sent over
 * real HTTP to a real server on each provider. No answer may be a 5xx, carry a stack trace,
 * an internal path or a database error, and a refused mutation must not have written a
 * row. The number of calls tried is printed. Bounded in time: past BUDGET_MS per provider
 * the remaining cases are counted as skipped and said so (every procedure still gets its
 * first MIN_ROUNDS cases: the calls go round robin over the procedures).
 */
const BUDGET_MS = Number(process.env.AGENTBOARD_FUZZ_BUDGET_MS ?? 45_000);
/** Cases every procedure gets, whatever the budget. */
const MIN_ROUNDS = 12;
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] as const;
/** Procedures whose accepted calls end the fixtures others need: fuzzed last. */
const LAST = ["run.complete", "run.cancel", "run.abort", "run.merge", "card.delete", "token.revoke", "worktree.remove"];

const LEAKS: [string, RegExp][] = [
  ["stack trace", /\n\s+at |\bat [\w$.<>]+ \(.*:\d+:\d+\)/],
  ["internal path", /node_modules|\/work\/|\b(?:packages|apps)\/[\w-]+\/src|\.(?:ts|js|mjs):\d+/],
  ["database error", /Prisma|prisma\.|Invalid `|SQLITE_|duplicate key|violates|syntax error at/i],
];

type Procedure = { _def: { type: "query" | "mutation" | "subscription"; inputs: Parameters<typeof jsonSchemaOf>[0][] } };

describe.each(testProviders)("fuzz on %s", (provider) => {
  let api: TestApi;
  let http: Awaited<ReturnType<typeof listenApi>>;
  let fixtures: Record<string, string>;

  beforeAll(async () => {
    api = await startTestApi(provider);
    http = await listenApi(api.core);
    const seed = await seedBoard(api, "fuzz");
    const runner = await api.withToken("runner", seed.workspace.id, "fuzz-runner");
    const workflow = await api.admin.workflow.create({
      workspaceId: seed.workspace.id,
      name: "wf",
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "true",
      dod: [{ key: "tests", title: "Tests" }],
    });
    const run = await api.admin.run.create({ cardId: seed.card.id, workflowId: workflow.id });
    const claim = (await runner.caller.run.claim({ workspaceId: seed.workspace.id, runId: run.id }))!;
    await runner.caller.run.start({ runId: run.id, leaseToken: claim.leaseToken, worktreePath: join(api.db.dir, "wt"), sizeBytes: 1 });
    const { evidence } = await api.admin.dod.addEvidence({ runId: run.id, itemKey: "tests", kind: "text", payload: { text: "ok" } });
    const worktree = (await api.admin.worktree.list({ workspaceId: seed.workspace.id }))[0]!;
    const viewer = (await api.admin.token.create({ workspaceId: seed.workspace.id, role: "viewer", name: "v" })).id;
    const runnerRecord = await runner.caller.runner.register({ workspaceId: seed.workspace.id, name: "fuzz-box" });
    fixtures = {
      workspaceId: seed.workspace.id,
      boardId: seed.board.id,
      projectId: seed.project.id,
      cardId: seed.card.id,
      workflowId: workflow.id,
      runId: run.id,
      leaseToken: claim.leaseToken,
      evidenceId: evidence.id,
      worktreeId: worktree.id,
      tokenId: viewer,
      runnerId: runnerRecord.id,
      itemKey: "tests",
      repoPath: initRepo(join(api.db.dir, "repos", "fuzz-2"), { "a.txt": "a\n" }),
      baseBranch: "main",
      engine: "command",
    };
  });
  afterAll(async () => {
    await http?.close();
    await api?.close();
  });

  /** What the database holds, cheaply: every table's row count and the latest change of the mutable ones. */
  async function fingerprint(): Promise<string> {
    const tables = [
      "workspaces",
      "boards",
      "projects",
      "cards",
      "workflows",
      "runs",
      "run_events",
      "runners",
      "worktrees",
      "dod_items",
      "dod_evidence",
      "api_tokens",
    ];
    const counts = tables.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(", ");
    const changed = ["runs", "cards", "workflows"].map((t) => `(SELECT max(updated_at) FROM ${t}) AS ${t}_changed`).join(", ");
    const rows = await api.core.deps.db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT ${counts}, ${changed}`);
    return textOf(rows[0]);
  }

  /** superjson's envelope; superjson itself refuses prototype keys, which a hostile caller simply writes. */
  function envelope(input: unknown): unknown {
    try {
      return superjson.serialize(input);
    } catch {
      return { json: input };
    }
  }

  async function send(method: string, path: string, input: unknown, subscription: boolean): Promise<{ status: number; text: string }> {
    const body = JSON.stringify(envelope(input));
    const url = `${http.url}/api/trpc/${path}`;
    const headers = { authorization: `Bearer ${api.adminToken}`, "content-type": "application/json" };
    const withBody = method !== "GET" && method !== "HEAD";
    const res = await fetch(withBody ? url : `${url}?input=${encodeURIComponent(body)}`, {
      method,
      headers,
      body: withBody ? body : undefined,
      signal: AbortSignal.timeout(subscription ? 3_000 : 30_000),
    });
    if (!subscription || !(res.headers.get("content-type") ?? "").includes("event-stream")) return { status: res.status, text: await res.text() };
    // A stream: its first events say whether the input was taken (errors come as events).
    const reader = res.body!.getReader();
    let text = "";
    const until = Date.now() + 500;
    while (Date.now() < until && text.length < 4_000) {
      const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), until - Date.now()))]);
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    await reader.cancel().catch(() => undefined);
    return { status: res.status, text };
  }

  it(
    "answers every generated bad input without a 5xx, a leak or a write",
    async () => {
      const table = appRouter._def.procedures as unknown as Record<string, Procedure>;
      const paths = Object.keys(table);
      const problems: string[] = [];
      let tried = 0;
      let skipped = 0;
      const started = Date.now();
      // Round robin over the procedures, so that a time budget cuts every procedure's tail
      // rather than whole procedures; those whose accepted calls end the fixtures go last.
      const queueOf = (path: string) => {
        const { type, inputs } = table[path]!._def;
        const { base, cases } = fuzzCases(jsonSchemaOf(inputs[0]), fixtures);
        return [
          ...cases.map((c) => ({ ...c, path, type, method: type === "mutation" ? "POST" : "GET" })),
          ...METHODS.map((method) => ({ label: `${method} with a plausible input`, input: base, path, type, method })),
        ];
      };
      const rounds = [paths.filter((p) => !LAST.includes(p)), LAST].map((group) => group.map(queueOf));
      const calls = rounds.flatMap((queues) =>
        Array.from({ length: Math.max(...queues.map((q) => q.length)) }, (_, round) =>
          queues.flatMap((q) => (q[round] ? [{ ...q[round]!, round }] : [])),
        ).flat(),
      );
      const triedBy = new Map<string, number>();
      for (const call of calls) {
        const { path, type } = call;
        const subscription = type === "subscription";
        // The budget cuts only past the first rounds: every procedure gets at least MIN_ROUNDS cases.
        if (Date.now() - started > BUDGET_MS && call.round >= MIN_ROUNDS) {
          skipped++;
          continue;
        }
        const before = type === "mutation" ? await fingerprint() : null;
        let answer: { status: number; text: string };
        try {
          answer = await send(call.method, path, call.input, subscription);
        } catch (err) {
          problems.push(`${path} [${call.label}]: no answer (${String(err)})`);
          continue;
        }
        tried++;
        triedBy.set(path, (triedBy.get(path) ?? 0) + 1);
        const where = `${path} [${call.label}] ${call.method} → ${answer.status}`;
        if (answer.status >= 500 || /"httpStatus":5\d\d/.test(answer.text)) problems.push(`${where}: ${answer.text.slice(0, 300)}`);
        const refused = answer.status >= 400 || (subscription && answer.text.includes("serialized-error"));
        if (refused) for (const [what, pattern] of LEAKS) if (pattern.test(answer.text)) problems.push(`${where}: ${what} in ${answer.text.slice(0, 300)}`);
        if (before !== null && refused && answer.status !== 405 && (await fingerprint()) !== before)
          problems.push(`${where}: a refused call wrote to the database`);
      }
      console.log(
        `[fuzz] ${provider}: ${tried} bad inputs tried over ${paths.length} procedures in ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s${skipped ? `, ${skipped} skipped past the time budget` : ""}`,
      );
      expect(problems).toEqual([]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(paths.filter((p) => (triedBy.get(p) ?? 0) < MIN_ROUNDS)).toEqual([]);
    },
    BUDGET_MS + 120_000,
  );
});
