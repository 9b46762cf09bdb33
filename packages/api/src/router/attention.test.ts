import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { reapExpiredLeases } from "../services/reaper.js";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";

/**
 * Runs that need a person, as the board shows them (docs/review-loop.md, Attention), and
 * where a card goes when its run ends without success.
 */

describe.each(testProviders)("attention on the board on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runner: Caller;
  let member: Caller;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    runner = await api.as("runner", seed.workspace.id, "rig");
    member = await api.as("member", seed.workspace.id, "mia");
  });
  afterAll(() => api.close());

  async function runningCard(title: string) {
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: seed.project.id, title, column: "todo" });
    const run = await member.run.create({ cardId: card.id, engine: "command", command: "true" });
    const claim = await runner.run.claim({ workspaceId: seed.workspace.id, runId: run.id });
    await runner.run.start({ runId: run.id, leaseToken: claim!.leaseToken });
    return { card, run, lease: claim!.leaseToken };
  }

  async function shown(cardId: string) {
    const cards = await member.card.list({ boardId: seed.board.id });
    const card = cards.find((c) => c.id === cardId)!;
    return { column: card.column, run: card.runs[0]! };
  }

  it("a failed run takes its card out of In progress and is marked failed; a succeeded one waits for review", async () => {
    const failed = await runningCard("Fails");
    expect(await shown(failed.card.id)).toMatchObject({ column: "in_progress", run: { status: "running", attention: null } });
    await runner.run.complete({ runId: failed.run.id, leaseToken: failed.lease, status: "failed", error: { message: "boom" } });
    expect(await shown(failed.card.id)).toMatchObject({ column: "todo", run: { status: "failed", attention: "failed", createdBy: "member:mia" } });

    const ok = await runningCard("Succeeds");
    await runner.run.complete({ runId: ok.run.id, leaseToken: ok.lease, status: "succeeded" });
    expect(await shown(ok.card.id)).toMatchObject({ column: "in_review", run: { status: "succeeded", attention: "review" } });
  });

  it("a cancelled run and a run whose runner was lost leave In progress too; a card with another run awaiting review goes to In review", async () => {
    const cancelled = await runningCard("Cancelled");
    await member.run.cancel({ runId: cancelled.run.id });
    await runner.run.complete({ runId: cancelled.run.id, leaseToken: cancelled.lease, status: "cancelled" });
    expect(await shown(cancelled.card.id)).toMatchObject({ column: "todo", run: { status: "cancelled", attention: null } });

    const lost = await runningCard("Runner lost");
    await api.core.deps.db.prisma.run.update({ where: { id: lost.run.id }, data: { leaseExpiresAt: new Date(Date.now() - 60_000) } });
    const reaped = await reapExpiredLeases(api.core.deps);
    expect(reaped.failed).toContain(lost.run.id);
    expect(await shown(lost.card.id)).toMatchObject({ column: "todo", run: { status: "failed", attention: "failed" } });

    // A second thread of a card whose first run awaits review: its failure sends the card back to review.
    const first = await runningCard("Two threads");
    await runner.run.complete({ runId: first.run.id, leaseToken: first.lease, status: "succeeded" });
    await api.core.deps.db.prisma.card.update({ where: { id: first.card.id }, data: { column: "in_progress" } });
    const second = await member.run.create({ cardId: first.card.id, engine: "command", command: "true" });
    const claim = await runner.run.claim({ workspaceId: seed.workspace.id, runId: second.id });
    await runner.run.start({ runId: second.id, leaseToken: claim!.leaseToken });
    await runner.run.complete({ runId: second.id, leaseToken: claim!.leaseToken, status: "failed", error: { message: "no" } });
    expect((await shown(first.card.id)).column).toBe("in_review");
  });

  it("a message the agent never took is marked once the run has stopped; one it took is not", async () => {
    const unread = await runningCard("Unread message");
    await member.run.sendMessage({ runId: unread.run.id, text: "also update the docs" });
    // While the run goes on, the agent may still take it.
    expect((await shown(unread.card.id)).run).toMatchObject({ status: "running", unreadMessages: 0, attention: null });
    await runner.run.complete({ runId: unread.run.id, leaseToken: unread.lease, status: "succeeded" });
    expect((await shown(unread.card.id)).run).toMatchObject({ status: "succeeded", unreadMessages: 1, attention: "message" });

    const taken = await runningCard("Taken message");
    const sent = await member.run.sendMessage({ runId: taken.run.id, text: "use util.ts" });
    await runner.run.appendEvents({
      runId: taken.run.id,
      leaseToken: taken.lease,
      events: [{ type: "agent.user_message", payload: { messageId: sent.messageId, text: "use util.ts" } }],
    });
    await runner.run.complete({ runId: taken.run.id, leaseToken: taken.lease, status: "succeeded" });
    expect((await shown(taken.card.id)).run).toMatchObject({ unreadMessages: 0, attention: "review" });
  });
});
