import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenApi } from "@agentboard/api";
import { seedBoard, startTestApi, type TestApi } from "@agentboard/api/testing";
import type { Outcome } from "./output.js";

const exec = promisify(execFile);
const bin = join(import.meta.dirname, "../bin/agentboard.mjs");

/** The CLI as a user runs it: a child process printing JSON, against a real server. */
describe("agentboard claim (CLI)", () => {
  let api: TestApi;
  let http: Awaited<ReturnType<typeof listenApi>>;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runnerToken: string;

  beforeAll(async () => {
    api = await startTestApi("sqlite");
    http = await listenApi(api.core);
    seed = await seedBoard(api);
    runnerToken = (await api.withToken("runner", seed.workspace.id, "ci")).token;
  });
  afterAll(async () => {
    await http.close();
    await api.close();
  });

  async function cli(...args: string[]): Promise<Outcome> {
    const r = await exec(process.execPath, [bin, ...args], { env: { ...process.env, AGENTBOARD_SERVER: http.url, AGENTBOARD_TOKEN: runnerToken } }).catch(
      (e: { stdout: string }) => e,
    );
    return JSON.parse(r.stdout) as Outcome;
  }

  it("claims a run by id for a named claimant, idempotently, and journals it after the claim", async () => {
    const run = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    const journal = join(api.db.dir, "journal", "claims.jsonl");
    const first = await cli("claim", "--workspace", seed.workspace.id, "--run-id", run.id, "--claimed-by", "executor", "--journal", journal);
    expect(first).toMatchObject({ ok: true, data: { runId: run.id, status: "claimed", attempt: 1 }, warnings: [] });
    const again = await cli("claim", "--workspace", seed.workspace.id, "--run-id", run.id, "--claimed-by", "executor");
    expect(again.ok && again.data).toEqual(first.ok && first.data);
    const lines = readFileSync(journal, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ type: "run-claimed", runId: run.id, claimedBy: "executor", attempt: 1 })]);

    const other = await cli("claim", "--workspace", seed.workspace.id, "--run-id", run.id, "--claimed-by", "someone-else", "--journal", journal);
    expect(other).toMatchObject({ ok: false, error: { code: "ALREADY_CLAIMED" } });
    // A failed claim writes no journal line.
    expect(readFileSync(journal, "utf8").trim().split("\n")).toHaveLength(1);
  });

  it("answers NOT_FOUND, BAD_REQUEST with the field, and never prose", async () => {
    expect(await cli("claim", "--workspace", seed.workspace.id, "--run-id", "nosuchrun")).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    expect(await cli("claim", "--workspace", seed.workspace.id, "--run-id", "../../etc")).toMatchObject({
      ok: false,
      error: { code: "BAD_REQUEST", field: "runId" },
    });
    expect(await cli("claim", "--workspace", seed.workspace.id, "--claimed-by", "bad name")).toMatchObject({
      ok: false,
      error: { code: "BAD_REQUEST", field: "claimedBy" },
    });
    expect(await cli("claim")).toMatchObject({ ok: false, error: { code: "BAD_REQUEST", field: "workspace" } });
    expect(await cli("frobnicate")).toMatchObject({ ok: false, error: { code: "BAD_REQUEST", field: "command" } });
  });

  it("reports a journal failure as a partial success: the claim stands", async () => {
    const run = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    const dirAsFile = join(api.db.dir, "not-a-file");
    mkdirSync(dirAsFile);
    const out = await cli("claim", "--workspace", seed.workspace.id, "--run-id", run.id, "--claimed-by", "executor", "--journal", dirAsFile);
    expect(out).toMatchObject({ ok: true, data: { runId: run.id }, warnings: [{ code: "PARTIAL_SUCCESS", subject: "journal" }] });
    expect((await api.admin.run.byId({ runId: run.id })).status).toBe("claimed");
    expect(existsSync(join(dirAsFile, "x"))).toBe(false);
  });

  it("claims the next run and returns null data when there is none", async () => {
    await api.core.deps.db.prisma.run.updateMany({ where: { status: "queued" }, data: { status: "cancelled" } });
    expect(await cli("claim", "--workspace", seed.workspace.id)).toEqual({ ok: true, data: null, warnings: [] });
    const run = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    expect(await cli("claim", "--workspace", seed.workspace.id, "--wait-ms", "1000")).toMatchObject({ ok: true, data: { runId: run.id } });
  });
});
