import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { reasonOf } from "../testing/failures.js";

/**
 * The approval contract at the API (the runner's side is in apps/runner approvals.test.ts):
 * the policy is the workflow's, copied into the run when it is created; requests are
 * lease-fenced and idempotent; an answer counts once.
 */

describe.each(testProviders)("approvals API on %s", (provider) => {
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

  const workflow = (over: Partial<Parameters<Caller["workflow"]["create"]>[0]> = {}) =>
    api.admin.workflow.create({
      workspaceId: seed.workspace.id,
      name: "guarded",
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "true",
      ...over,
    });

  /** A run of the workflow, claimed and started by the runner. */
  async function running(workflowId: string) {
    const run = await member.run.create({ cardId: seed.card.id, workflowId });
    const claim = await runner.run.claim({ workspaceId: seed.workspace.id, runId: run.id });
    await runner.run.start({ runId: run.id, leaseToken: claim!.leaseToken });
    return { runId: run.id, leaseToken: claim!.leaseToken };
  }

  it("a workflow's policy defaults to none, is validated, and is copied into the run: editing the workflow later changes no queued run", async () => {
    expect((await workflow()).approval).toBe("none");
    expect(await reasonOf(workflow({ approval: "everything" as never }))).toBe("BAD_REQUEST");
    expect(await reasonOf(workflow({ approval: "commands", approvalTimeoutMs: 10 }))).toBe("BAD_REQUEST");
    const wf = await workflow({ approval: "commands", approvalTimeoutMs: 60_000 });
    const run = await member.run.create({ cardId: seed.card.id, workflowId: wf.id });
    await api.admin.workflow.update({ workflowId: wf.id, approval: "none", approvalTimeoutMs: null });
    expect(await api.admin.run.byId({ runId: run.id })).toMatchObject({ approval: "commands", approvalTimeoutMs: 60_000 });
    expect((await api.admin.workflow.byId({ workflowId: wf.id })).approval).toBe("none");
    await member.run.cancel({ runId: run.id });
  });

  it("requests are fenced by the lease and idempotent by id; the timeout is the workflow's (10 minutes by default)", async () => {
    const { runId, leaseToken } = await running((await workflow({ approval: "writes" })).id);
    const ask = { runId, leaseToken, requestId: `req-${provider}-1`, tool: "run_command", subject: { kind: "command" as const, command: "make test" } };
    expect(await reasonOf(runner.run.requestApproval({ ...ask, leaseToken: "stale" }))).toBe("LEASE_LOST");
    expect(await api.admin.run.approvals({ runId })).toEqual([]);
    const first = await runner.run.requestApproval(ask);
    expect(first.timeoutMs).toBe(10 * 60_000);
    expect(await runner.run.requestApproval(ask)).toEqual(first);
    const events = await api.admin.run.events({ runId });
    expect(events.filter((e) => e.type === "approval.requested")).toHaveLength(1);
    expect(await reasonOf(runner.run.requestApproval({ ...ask, subject: { kind: "command", command: "" } }))).toBe("BAD_REQUEST");
    expect(await reasonOf(member.run.requestApproval(ask))).toBe("FORBIDDEN");
    // Answers are the server's to record, never a runner's.
    expect(await reasonOf(runner.run.appendEvents({ runId, leaseToken, events: [{ type: "approval.granted", payload: { requestId: ask.requestId } }] }))).toBe(
      "BAD_REQUEST",
    );

    // Expiring returns the request as it ends; an answer that came first stands.
    await member.run.approve({ runId, requestId: ask.requestId, decision: "deny", note: "  " });
    expect(await runner.run.expireApproval({ runId, leaseToken, requestId: ask.requestId })).toMatchObject({
      status: "denied",
      decidedBy: "member:mia",
      note: null,
    });
    const second = await runner.run.requestApproval({ ...ask, requestId: `req-${provider}-2` });
    expect(await runner.run.expireApproval({ runId, leaseToken, requestId: second.requestId })).toMatchObject({ status: "expired", decidedBy: null });
    expect(await reasonOf(member.run.approve({ runId, requestId: second.requestId, decision: "approve" }))).toBe("APPROVAL_ANSWERED");
    const types = (await api.admin.run.events({ runId })).map((e) => e.type).filter((t) => t.startsWith("approval."));
    expect(types).toEqual(["approval.requested", "approval.denied", "approval.requested", "approval.expired"]);
  });

  it("an answer after the request's deadline is refused as APPROVAL_EXPIRED", async () => {
    const { runId, leaseToken } = await running((await workflow({ approval: "commands", approvalTimeoutMs: 1_000 })).id);
    const { requestId } = await runner.run.requestApproval({
      runId,
      leaseToken,
      requestId: `late-${provider}`,
      tool: "command",
      subject: { kind: "command", command: "true" },
    });
    // Backdated instead of waiting: the deadline is the row's.
    await api.core.deps.db.prisma.approvalRequest.update({ where: { id: requestId }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    expect(await reasonOf(member.run.approve({ runId, requestId, decision: "approve" }))).toBe("APPROVAL_EXPIRED");
  });
});
