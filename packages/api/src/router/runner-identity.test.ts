import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";

/** A runner record belongs to the token that created it. */

async function refusal(p: Promise<unknown>): Promise<{ code: string; reason?: string }> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    return { code: err.code, reason: (err.cause as { reason?: string } | undefined)?.reason };
  }
  throw new Error("expected the call to be refused");
}

describe.each(testProviders)("runner identity on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
  });
  afterAll(() => api.close());

  const newRun = async () => {
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: "t" });
    return api.admin.run.create({ cardId: card.id, engine: "command", command: "true" });
  };

  it("another token cannot register under a runner's name, nor read the run it holds", async () => {
    const ws = seed.workspace.id;
    const a = await api.withToken("runner", ws, "a");
    const b = await api.withToken("runner", ws, "b");
    const mine = await a.caller.runner.register({ workspaceId: ws, name: "box-1", labels: ["linux"] });
    const run = await newRun();
    await a.caller.run.claim({ workspaceId: ws, runId: run.id, runnerId: mine.id });

    expect(await refusal(b.caller.runner.register({ workspaceId: ws, name: "box-1" }))).toEqual({ code: "CONFLICT", reason: "ALREADY_EXISTS" });
    expect(await refusal(b.caller.run.byId({ runId: run.id }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await refusal(b.caller.run.claim({ workspaceId: ws, runnerId: mine.id }))).toMatchObject({ code: "FORBIDDEN" });
    // Its owner registers again as often as it likes.
    expect((await a.caller.runner.register({ workspaceId: ws, name: "box-1", labels: ["linux", "gpu"] })).id).toBe(mine.id);
    expect((await a.caller.run.byId({ runId: run.id })).id).toBe(run.id);
  });

  it("a record whose token was revoked passes to the token that registers it next", async () => {
    const ws = seed.workspace.id;
    const old = await api.withToken("runner", ws, "old");
    const record = await old.caller.runner.register({ workspaceId: ws, name: "box-2" });
    const tokens = await api.admin.token.list({ workspaceId: ws });
    await api.admin.token.revoke({ tokenId: tokens.find((t) => old.token.startsWith(t.prefix))!.id });
    const next = await api.as("runner", ws, "new");
    expect((await next.runner.register({ workspaceId: ws, name: "box-2" })).id).toBe(record.id);
  });

  it("two tokens with one display name are two runners: a claim by id is not handed the other's lease", async () => {
    const ws = seed.workspace.id;
    const first = await api.as("runner", ws, "ci");
    const second = await api.as("runner", ws, "ci");
    const run = await newRun();
    const claim = await first.run.claim({ workspaceId: ws, runId: run.id });
    expect(claim?.leaseToken).toBeTruthy();
    expect(await refusal(second.run.claim({ workspaceId: ws, runId: run.id }))).toEqual({ code: "CONFLICT", reason: "ALREADY_CLAIMED" });
    // The same token claiming again is still idempotent.
    expect((await first.run.claim({ workspaceId: ws, runId: run.id }))?.leaseToken).toBe(claim!.leaseToken);
  });
});
