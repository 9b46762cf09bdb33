import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";

/**
 * What both databases store alike: text with NUL or unpaired surrogates (PostgreSQL
 * refuses both) is stored with U+FFFD in their place; numbers are bounded by their
 * columns, and counters that grow past 32 bits are 64-bit.
 */

async function refusal(p: Promise<unknown>): Promise<{ code: string; reason?: string; field?: string }> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    const cause = err.cause as { reason?: string; details?: { field?: string }; issues?: { path: PropertyKey[] }[] } | undefined;
    return { code: err.code, reason: cause?.reason, field: cause?.details?.field ?? cause?.issues?.[0]?.path.join(".") };
  }
  throw new Error("expected the call to be refused");
}

const NUL = "\u0000";
const LONE = "\ud800";
const FFFD = "\ufffd";

describe.each(testProviders)("storable input on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runner: Caller;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    runner = await api.as("runner", seed.workspace.id);
  });
  afterAll(() => api.close());

  async function runningRun() {
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: "t" });
    const run = await api.admin.run.create({ cardId: card.id, engine: "command", command: "true" });
    const claim = (await runner.run.claim({ workspaceId: seed.workspace.id, runId: run.id }))!;
    return { run, lease: { runId: run.id, leaseToken: claim.leaseToken } };
  }

  it("stores NUL and lone surrogates as U+FFFD in events, their keys and the report, so the run goes on", async () => {
    const { run, lease } = await runningRun();
    await runner.run.start(lease);
    const payload = { text: `a${NUL}b`, lone: `x${LONE}y${"\udc00"}z`, pair: "😀", [`k${NUL}`]: [`v${NUL}`] };
    const appended = await runner.run.appendEvents({ ...lease, events: [{ type: "command.output", payload }] });
    expect(appended.appended).toBe(1);
    const [stored] = (await api.admin.run.events({ runId: run.id })).filter((e) => e.type === "command.output");
    expect(stored!.payload).toEqual({ text: `a${FFFD}b`, lone: `x${FFFD}y${FFFD}z`, pair: "😀", [`k${FFFD}`]: [`v${FFFD}`] });

    await runner.run.complete({ ...lease, status: "succeeded", output: { summary: `done${NUL}`, logs: `log ${LONE}`, diff: `+${NUL}` } });
    const done = await api.admin.run.byId({ runId: run.id });
    expect(done).toMatchObject({ status: "succeeded", summary: `done${FFFD}`, logs: `log ${FFFD}`, diff: `+${FFFD}` });
  });

  it("stores them in every other text too (a card's title, a workspace's name)", async () => {
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: `ti${NUL}tle`, description: `d${LONE}` });
    expect(await api.admin.card.byId({ cardId: card.id })).toMatchObject({ title: `ti${FFFD}tle`, description: `d${FFFD}` });
    const ws = await api.admin.workspace.update({ workspaceId: seed.workspace.id, name: `acme${NUL}` });
    expect(ws.name).toBe(`acme${FFFD}`);
  });

  it("refuses a __proto__ key with the field, and an id with NUL as an invalid id", async () => {
    const { lease } = await runningRun();
    const payload = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, never>;
    expect(await refusal(runner.run.appendEvents({ ...lease, events: [{ type: "x", payload }] }))).toMatchObject({
      code: "BAD_REQUEST",
      field: "events.0.payload.__proto__",
    });
    expect(await refusal(api.admin.run.byId({ runId: `r${NUL}` }))).toMatchObject({ code: "BAD_REQUEST", field: "runId" });
  });

  it("keeps sizes and token counts past 32 bits exactly", async () => {
    const { run, lease } = await runningRun();
    await runner.run.start({ ...lease, worktreePath: "/tmp/agentboard-big", sizeBytes: 2_360_000_000 });
    const [worktree] = (await api.admin.worktree.list({ workspaceId: seed.workspace.id })).filter((w) => w.runId === run.id);
    expect(worktree!.sizeBytes).toBe(2_360_000_000n);
    await runner.run.complete({ ...lease, status: "succeeded", metrics: { tokensIn: 3_000_000_000, tokensOut: 2 ** 40, toolCalls: 7, durationMs: 1000 } });
    expect(await api.admin.run.byId({ runId: run.id })).toMatchObject({ tokensIn: 3_000_000_000n, tokensOut: 2n ** 40n, toolCalls: 7 });
  });

  it("refuses numbers and dates past their columns with the field", async () => {
    const { run, lease } = await runningRun();
    const big = 2 ** 31;
    expect(await refusal(runner.run.complete({ ...lease, status: "succeeded", metrics: { toolCalls: big } }))).toMatchObject({
      code: "BAD_REQUEST",
      field: "metrics.toolCalls",
    });
    expect(await refusal(runner.run.complete({ ...lease, status: "succeeded", metrics: { durationMs: big } }))).toMatchObject({
      code: "BAD_REQUEST",
      field: "metrics.durationMs",
    });
    expect(await refusal(runner.run.complete({ ...lease, status: "succeeded", metrics: { tokensIn: 2 ** 60 } }))).toMatchObject({
      code: "BAD_REQUEST",
      field: "metrics.tokensIn",
    });
    expect(await refusal(runner.run.start({ ...lease, sizeBytes: 2 ** 60 }))).toMatchObject({ code: "BAD_REQUEST", field: "sizeBytes" });
    expect(await refusal(api.admin.run.events({ runId: run.id, afterSeq: big }))).toMatchObject({ code: "BAD_REQUEST", field: "afterSeq" });
    expect(await refusal(api.admin.run.onEvents({ runId: run.id, lastEventId: big }))).toMatchObject({ code: "BAD_REQUEST", field: "lastEventId" });
    expect(await refusal(api.admin.board.onChanges({ boardId: seed.board.id, lastEventId: big }))).toMatchObject({ code: "BAD_REQUEST", field: "lastEventId" });
    const farPast = new Date(-8.64e15);
    expect(await refusal(api.admin.run.list({ workspaceId: seed.workspace.id, since: farPast }))).toMatchObject({ code: "BAD_REQUEST", field: "since" });
    // The run was left as it was: still claimed, nothing recorded.
    expect(await api.admin.run.byId({ runId: run.id })).toMatchObject({ status: "claimed", toolCalls: 0 });
  });

  it("refuses a board cursor past the largest event id as a bad cursor, not a failure", async () => {
    const changes = await api.admin.board.onChanges({ boardId: seed.board.id, lastEventId: "3000000000" });
    const it = changes[Symbol.asyncIterator]();
    expect(await refusal(it.next())).toMatchObject({ code: "BAD_REQUEST", field: "lastEventId" });
  });
});
