/**
 * Approvals end to end: a real API over HTTP on each provider, the real runner and its
 * anthropic engine against the local Messages API server, a member answering through the
 * typed client, and the file system as the witness of what ran.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { createAgentboardClient, errorReason, isAgentboardError, type AgentboardClient, type RouterInputs } from "@agentboard/client";
import { startMessagesServer, type MessagesServer, type RecordedRequest, type ScriptFn, type Turn } from "@agentboard/testkit/messages-server";
import { testProviders } from "@agentboard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acpTestAgent } from "../engines/testing.js";
import { eventsOf, git, startHarness, waitForEvent, waitForFinish, type Harness, type TestRunner } from "../testing/harness.js";

const KEY = "sk-ant-approvals-test";
const MODEL = "claude-sonnet-4-6";
/** The pinned Claude Code CLI (a devDependency), run offline against the Messages server. */
const REAL_CLAUDE = path.join(path.dirname(createRequire(import.meta.url).resolve("@anthropic-ai/claude-code/package.json")), "bin/claude.exe");

type WorkflowInput = Omit<RouterInputs["workflow"]["create"], "workspaceId" | "name" | "promptTemplate">;

/** The tool result the model was sent in a request (the answer to its last tool call). */
function toolResultIn(req: RecordedRequest): { content: string; isError: boolean } {
  const last = req.body.messages.at(-1);
  const block = Array.isArray(last?.content) ? last.content.find((b) => b.type === "tool_result") : undefined;
  if (block?.type !== "tool_result") throw new Error("the request carries no tool result");
  return { content: typeof block.content === "string" ? block.content : JSON.stringify(block.content), isError: block.is_error === true };
}

async function refusal(call: Promise<unknown>): Promise<{ code: string | undefined; reason: string | undefined }> {
  try {
    await call;
  } catch (err) {
    if (isAgentboardError(err)) return { code: err.data?.code, reason: errorReason(err) };
    throw err;
  }
  throw new Error("the call was not refused");
}

describe.each(testProviders)("approvals on %s", (provider) => {
  let h: Harness;
  let alice: AgentboardClient;
  let n = 0;

  beforeAll(async () => {
    h = await startHarness(provider);
    const { token } = await h.admin.token.create.mutate({ workspaceId: h.workspace.id, role: "member", name: "alice" });
    alice = createAgentboardClient({ url: h.url, token });
  });
  afterAll(() => h.close());

  /** A runner whose model plays `script`, and a run of a workflow with `policy`. */
  async function scenario(
    script: Array<Turn | ScriptFn>,
    policy: WorkflowInput,
    run: Partial<RouterInputs["run"]["create"]> = {},
    runnerOpts: { claudeCodeBin?: string; baseEnv?: NodeJS.ProcessEnv } = {},
  ) {
    const messages: MessagesServer = await startMessagesServer({ apiKey: KEY, script });
    const { baseEnv, ...config } = runnerOpts;
    const runner: TestRunner = await h.startRunner({ anthropicApiKey: KEY, anthropicBaseUrl: messages.url, heartbeatMs: 200, ...config }, { baseEnv });
    const project = await h.project();
    const workflow = await h.admin.workflow.create.mutate({
      workspaceId: h.workspace.id,
      name: `approvals ${++n}`,
      promptTemplate: "{{card.title}}",
      ...policy,
    });
    const queued = await h.createRun(project, { workflowId: workflow.id, model: MODEL, ...run }, `Approval scenario ${n}`);
    const worktree = path.join(h.worktreesDir, queued.id);
    const requested = () => waitForEvent(h.admin, queued.id, (e) => e.type === "approval.requested");
    return {
      messages,
      project,
      queued,
      worktree,
      requested,
      async close() {
        await runner.stop(0);
        await messages.close();
      },
    };
  }

  const command = (cmd: string): Turn => ({ content: [{ type: "tool_use", name: "run_command", input: { command: cmd } }] });

  it("approve: the agent waits, heartbeats go on, a member approves, the command runs and its output reaches the model", async () => {
    const cmd = "echo approved-output > ran.txt && cat ran.txt";
    const s = await scenario([command(cmd), { text: "Ran it." }], { approval: "commands" });
    try {
      const asked = await s.requested();
      const payload = asked.payload as { requestId: string; tool: string; kind: string; subject: { command: string } };
      expect(payload).toMatchObject({ tool: "run_command", kind: "command", subject: { command: cmd } });
      // Waiting: nothing ran, and the board card says so.
      expect(existsSync(path.join(s.worktree, "ran.txt"))).toBe(false);
      const card = (await h.admin.card.list.query({ boardId: h.board.id })).find((c) => c.id === s.queued.cardId);
      expect(card?.runs[0]).toMatchObject({ id: s.queued.id, status: "running", pendingApprovals: 1 });
      const waitingSince = (await h.admin.run.byId.query({ runId: s.queued.id })).heartbeatAt!;
      await expect
        .poll(async () => (await h.admin.run.byId.query({ runId: s.queued.id })).heartbeatAt!.getTime(), { timeout: 10_000 })
        .toBeGreaterThan(waitingSince.getTime());
      expect(s.messages.requests).toHaveLength(1);

      const answered = await alice.run.approve.mutate({ runId: s.queued.id, requestId: payload.requestId, decision: "approve" });
      expect(answered).toMatchObject({ status: "granted", decidedBy: "member:alice" });
      const run = await waitForFinish(h.admin, s.queued.id);
      expect(run.status).toBe("succeeded");
      expect(toolResultIn(s.messages.requests[1]!)).toEqual({ content: expect.stringContaining("approved-output"), isError: false });
      expect(git(s.project.repo, "show", `${run.branch}:ran.txt`)).toBe("approved-output");

      const events = await eventsOf(h.admin, run.id);
      const at = (type: string) => events.findIndex((e) => e.type === type);
      expect(at("tool.call")).toBeLessThan(at("approval.requested"));
      expect(at("approval.requested")).toBeLessThan(at("approval.granted"));
      expect(at("approval.granted")).toBeLessThan(at("tool.result"));
      expect(events[at("approval.granted")]).toMatchObject({ actor: "member:alice", payload: { requestId: payload.requestId, by: "member:alice" } });
      const after = (await h.admin.card.list.query({ boardId: h.board.id })).find((c) => c.id === s.queued.cardId);
      expect(after?.runs[0]?.pendingApprovals).toBe(0);
    } finally {
      await s.close();
    }
  });

  it("deny with a note: the command never runs and the model's next request carries the denial and why", async () => {
    const s = await scenario([command("touch denied.txt && echo should-not-run"), { text: "Understood." }], { approval: "commands" });
    try {
      const { requestId } = (await s.requested()).payload as { requestId: string };
      await alice.run.approve.mutate({ runId: s.queued.id, requestId, decision: "deny", note: "no touching files today" });
      const run = await waitForFinish(h.admin, s.queued.id);
      expect(run.status).toBe("succeeded");
      const result = toolResultIn(s.messages.requests[1]!);
      expect(result.isError).toBe(true);
      expect(result.content).toContain("Denied: member:alice");
      expect(result.content).toContain("no touching files today");
      expect(result.content).not.toContain("should-not-run");
      expect(existsSync(path.join(s.worktree, "denied.txt"))).toBe(false);
      expect(run.filesChanged).toEqual([]);
      const events = await eventsOf(h.admin, run.id);
      expect(events.find((e) => e.type === "approval.denied")).toMatchObject({
        actor: "member:alice",
        payload: { requestId, note: "no touching files today" },
      });
      expect(events.some((e) => e.type === "command.output")).toBe(false);
    } finally {
      await s.close();
    }
  });

  it("unanswered: the request expires as denied, and the wait does not count against the run's timeout", async () => {
    // The run may work for 2 s; its request waits 3 s. Counted together, the run would time out.
    const s = await scenario(
      [command("touch late.txt"), { text: "Nobody answered." }],
      { approval: "commands", approvalTimeoutMs: 3_000 },
      { timeoutMs: 2_000 },
    );
    try {
      const { requestId } = (await s.requested()).payload as { requestId: string };
      const expired = await waitForEvent(h.admin, s.queued.id, (e) => e.type === "approval.expired");
      expect(expired.payload).toMatchObject({ requestId });
      const run = await waitForFinish(h.admin, s.queued.id);
      expect(run).toMatchObject({ status: "succeeded", errorReason: null });
      const result = toolResultIn(s.messages.requests[1]!);
      expect(result).toMatchObject({ isError: true, content: expect.stringContaining("no one answered") });
      expect(existsSync(path.join(s.worktree, "late.txt"))).toBe(false);
      expect(await refusal(alice.run.approve.mutate({ runId: s.queued.id, requestId, decision: "approve" }))).toEqual({
        code: "CONFLICT",
        reason: "APPROVAL_ANSWERED",
      });
    } finally {
      await s.close();
    }
  });

  it(
    "who may answer: viewers and runner tokens are refused, another workspace sees nothing, a " + "second answer conflicts; a cancel ends the wait at once",
    async () => {
      const s = await scenario([command("touch never.txt")], { approval: "commands" });
      try {
        const { requestId } = (await s.requested()).payload as { requestId: string };
        const runId = s.queued.id;
        const viewer = createAgentboardClient({
          url: h.url,
          token: (await h.admin.token.create.mutate({ workspaceId: h.workspace.id, role: "viewer", name: "val" })).token,
        });
        const runnerClient = createAgentboardClient({ url: h.url, token: h.runnerToken });
        const other = await h.admin.workspace.create.mutate({ name: `other-${provider}`, slug: `other-${provider}` });
        const outsider = createAgentboardClient({
          url: h.url,
          token: (await h.admin.token.create.mutate({ workspaceId: other.id, role: "admin", name: "olga" })).token,
        });
        const answer = { runId, requestId, decision: "approve" } as const;

        expect(await refusal(viewer.run.approve.mutate(answer))).toMatchObject({ code: "FORBIDDEN" });
        expect(await refusal(runnerClient.run.approve.mutate(answer))).toMatchObject({ code: "FORBIDDEN" });
        expect(await refusal(outsider.run.approve.mutate(answer))).toMatchObject({ code: "NOT_FOUND" });
        expect(await refusal(outsider.run.approvals.query({ runId }))).toMatchObject({ code: "NOT_FOUND" });
        expect(await refusal(alice.run.approve.mutate({ ...answer, requestId: "no-such-request" }))).toEqual({ code: "CONFLICT", reason: "APPROVAL_UNKNOWN" });
        // A viewer sees the request (and no one has answered it yet).
        expect(await viewer.run.approvals.query({ runId })).toMatchObject([{ id: requestId, status: "pending", subject: { command: "touch never.txt" } }]);

        const cancelled = waitForFinish(h.admin, runId);
        await alice.run.cancel.mutate({ runId });
        expect((await cancelled).status).toBe("cancelled");
        expect(existsSync(path.join(s.worktree, "never.txt"))).toBe(false);
        expect(s.messages.requests).toHaveLength(1);
        expect(await refusal(alice.run.approve.mutate(answer))).toEqual({ code: "CONFLICT", reason: "RUN_NOT_RUNNING" });
      } finally {
        await s.close();
      }
    },
  );

  it("two answers at once: exactly one counts, the other is CONFLICT / APPROVAL_ANSWERED", async () => {
    const s = await scenario([command("echo once"), { text: "Done." }], { approval: "commands" });
    try {
      const { requestId } = (await s.requested()).payload as { requestId: string };
      const bob = createAgentboardClient({
        url: h.url,
        token: (await h.admin.token.create.mutate({ workspaceId: h.workspace.id, role: "member", name: "bob" })).token,
      });
      const results = await Promise.allSettled([
        alice.run.approve.mutate({ runId: s.queued.id, requestId, decision: "approve" }),
        bob.run.approve.mutate({ runId: s.queued.id, requestId, decision: "deny" }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const lost = results.find((r) => r.status === "rejected");
      expect(errorReason(lost?.reason)).toBe("APPROVAL_ANSWERED");
      const run = await waitForFinish(h.admin, s.queued.id);
      const answers = (await eventsOf(h.admin, run.id)).filter((e) => e.type === "approval.granted" || e.type === "approval.denied");
      expect(answers).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it("writes: file writes and edits wait too, shown as the new content or a diff", async () => {
    const s = await scenario(
      [
        { content: [{ type: "tool_use", name: "write_file", input: { path: "docs/new.md", content: "# New\nhello\n" } }] },
        {
          content: [
            { type: "tool_use", name: "edit_file", input: { path: "src/app.ts", old_string: "export const b = 2;", new_string: "export const b = 42;" } },
          ],
        },
        { text: "Wrote the doc; the edit was refused." },
      ],
      { approval: "writes" },
    );
    try {
      const first = await s.requested();
      const write = first.payload as { requestId: string; kind: string; subject: { path: string; action: string; preview: string } };
      expect(write).toMatchObject({ kind: "write", subject: { path: "docs/new.md", action: "create", preview: "# New\nhello\n" } });
      await alice.run.approve.mutate({ runId: s.queued.id, requestId: write.requestId, decision: "approve" });
      const second = await waitForEvent(h.admin, s.queued.id, (e) => e.type === "approval.requested" && e.seq > first.seq);
      const edit = second.payload as { requestId: string; subject: { path: string; action: string; preview: string } };
      expect(edit.subject).toMatchObject({ path: "src/app.ts", action: "edit" });
      expect(edit.subject.preview).toContain("-export const b = 2;");
      expect(edit.subject.preview).toContain("+export const b = 42;");
      await alice.run.approve.mutate({ runId: s.queued.id, requestId: edit.requestId, decision: "deny" });
      const run = await waitForFinish(h.admin, s.queued.id);
      expect(run.filesChanged).toEqual(["docs/new.md"]);
      expect(readFileSync(path.join(s.worktree, "src/app.ts"), "utf8")).toContain("export const b = 2;");
    } finally {
      await s.close();
    }
  });

  it("command engine: its one command waits; denied, the run fails with approval_denied and nothing ran", async () => {
    const s = await scenario([], { engine: "command", command: "touch engine.txt", approval: "commands" });
    try {
      const asked = await s.requested();
      expect(asked.payload).toMatchObject({ tool: "command", subject: { command: "touch engine.txt" } });
      await alice.run.approve.mutate({ runId: s.queued.id, requestId: (asked.payload as { requestId: string }).requestId, decision: "deny", note: "not now" });
      const run = await waitForFinish(h.admin, s.queued.id);
      expect(run).toMatchObject({ status: "failed", errorReason: "approval_denied" });
      expect(run.error).toContain("member:alice denied it: not now");
      expect(existsSync(path.join(s.worktree, "engine.txt"))).toBe(false);
    } finally {
      await s.close();
    }
  });

  it("claude_code asks through its permission prompt: an approved command runs, a denied one does not, and the CLI is told why", async () => {
    const home = mkdtempSync(path.join(h.root, "cc-home-"));
    const s = await scenario(
      [
        { content: [{ type: "tool_use", name: "Bash", input: { command: "echo from-claude > cc.txt", description: "Write" } }] },
        { content: [{ type: "tool_use", name: "Bash", input: { command: "touch cc-denied.txt", description: "Touch" } }] },
        { text: "One ran, one was refused." },
      ],
      { engine: "claude_code", approval: "commands", maxTurns: 10 },
      {},
      { claudeCodeBin: REAL_CLAUDE, baseEnv: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8" } },
    );
    try {
      const first = await s.requested();
      expect(first.payload).toMatchObject({ tool: "Bash", subject: { command: "echo from-claude > cc.txt" } });
      await alice.run.approve.mutate({ runId: s.queued.id, requestId: (first.payload as { requestId: string }).requestId, decision: "approve" });
      const second = await waitForEvent(h.admin, s.queued.id, (e) => e.type === "approval.requested" && e.seq > first.seq);
      expect(second.payload).toMatchObject({ tool: "Bash", subject: { command: "touch cc-denied.txt" } });
      await alice.run.approve.mutate({
        runId: s.queued.id,
        requestId: (second.payload as { requestId: string }).requestId,
        decision: "deny",
        note: "one file is enough",
      });
      const run = await waitForFinish(h.admin, s.queued.id, 60_000);
      expect(run).toMatchObject({ status: "succeeded", filesChanged: ["cc.txt"] });
      expect(existsSync(path.join(s.worktree, "cc-denied.txt"))).toBe(false);
      expect(JSON.stringify(s.messages.requests.at(-1)?.body.messages.at(-1))).toContain("one file is enough");
    } finally {
      await s.close();
    }
  });

  it(
    "acp: under `writes` the agent's permission request for a write waits for a person, and so " +
      "does a terminal it never asked about; denied or unanswered, it is told no; `commands` " +
      "holds only the terminal",
    async () => {
      const agent = acpTestAgent("allow");
      const profile = `acp-approvals-${++n}`;
      await h.admin.agentProfile.create.mutate({ workspaceId: h.workspace.id, name: profile, command: agent.command, args: agent.args, env: agent.env });
      const runner: TestRunner = await h.startRunner({ heartbeatMs: 200 });
      try {
        const project = await h.project();
        const workflow = (policy: WorkflowInput) =>
          h.admin.workflow.create.mutate({ workspaceId: h.workspace.id, name: `acp approvals ${++n}`, promptTemplate: "{{card.title}}", ...policy });
        const writes = await workflow({ approval: "writes", approvalTimeoutMs: 2_000 });
        const start = (workflowId: string, title: string) => h.createRun(project, { workflowId, engine: "acp", agentProfile: profile, prompt: "work" }, title);
        const permission = async (runId: string) => (await eventsOf(h.admin, runId)).find((e) => e.type === "agent.permission")?.payload;
        const requested = (runId: string, kind: "write" | "command") =>
          waitForEvent(h.admin, runId, (e) => e.type === "approval.requested" && (e.payload as { kind?: string }).kind === kind).then(
            (e) => e.payload as { requestId: string },
          );
        const terminal = { tool: "acp.terminal", kind: "command", subject: { command: "/bin/sh -c 'cat hello.txt; echo done'" } };

        // Approved: the agent writes hello.txt through the client; its terminal (it asks no
        // permission for it) waits too, and once approved runs.
        const approved = await start(writes.id, "ACP approve");
        const worktree = path.join(h.worktreesDir, approved.id);
        const asked = await requested(approved.id, "write");
        expect(asked).toMatchObject({
          tool: "acp.edit",
          kind: "write",
          subject: { path: path.join(worktree, "hello.txt"), action: "create", preview: "hello\n" },
        });
        expect(existsSync(path.join(worktree, "hello.txt"))).toBe(false);
        await alice.run.approve.mutate({ runId: approved.id, requestId: asked.requestId, decision: "approve" });
        const cat = await requested(approved.id, "command");
        expect(cat).toMatchObject(terminal);
        // The write it was allowed went through without a second request.
        expect(readFileSync(path.join(worktree, "hello.txt"), "utf8")).toBe("hello\n");
        await alice.run.approve.mutate({ runId: approved.id, requestId: cat.requestId, decision: "approve" });
        const ok = await waitForFinish(h.admin, approved.id);
        expect(ok.status, ok.error ?? "").toBe("succeeded");
        expect(git(project.repo, "show", `${ok.branch}:hello.txt`)).toBe("hello");
        expect(await permission(approved.id)).toMatchObject({ decision: "allowed", option: "yes" });
        const requests = (await eventsOf(h.admin, approved.id)).filter((e) => e.type === "approval.requested");
        expect(requests).toHaveLength(2);
        expect((await eventsOf(h.admin, approved.id)).some((e) => e.type === "command.output" && (e.payload as { text: string }).text.includes("done"))).toBe(
          true,
        );

        // Denied by a person, although the profile would allow it: the agent gets its reject option.
        const denied = await start(writes.id, "ACP deny");
        const { requestId } = await requested(denied.id, "write");
        await alice.run.approve.mutate({ runId: denied.id, requestId, decision: "deny", note: "not this file" });
        const no = await waitForFinish(h.admin, denied.id);
        expect(no).toMatchObject({ status: "succeeded", summary: "I was not allowed to write." });
        expect(no.filesChanged).toEqual([]);
        expect(await permission(denied.id)).toMatchObject({ decision: "denied", option: "no" });

        // Unanswered: the request expires, which the agent is told as a rejection.
        const late = await start(writes.id, "ACP unanswered");
        await waitForEvent(h.admin, late.id, (e) => e.type === "approval.expired");
        const expired = await waitForFinish(h.admin, late.id);
        expect(expired).toMatchObject({ status: "succeeded", summary: "I was not allowed to write." });
        expect(expired.filesChanged).toEqual([]);

        // A write the agent never asked permission for waits all the same; denied, it is refused and nothing is written.
        const sneak = await h.createRun(project, { workflowId: writes.id, engine: "acp", agentProfile: profile, prompt: "sneak" }, "ACP sneak");
        const unasked = await requested(sneak.id, "write");
        expect(unasked).toMatchObject({ tool: "acp.write_text_file", subject: { path: "sneaky.txt", action: "create", preview: "unasked\n" } });
        await alice.run.approve.mutate({ runId: sneak.id, requestId: unasked.requestId, decision: "deny", note: "ask first" });
        const sneaked = await waitForFinish(h.admin, sneak.id);
        expect(sneaked.status, sneaked.error ?? "").toBe("succeeded");
        expect(sneaked.summary).toContain("sneaky.txt refused: Denied: member:alice");
        expect(sneaked.summary).toContain("ask first");
        expect(sneaked.filesChanged).toEqual([]);

        // `commands` holds commands only: the write goes by the profile's `allow` unasked; the terminal waits.
        const commands = await workflow({ approval: "commands" });
        const free = await start(commands.id, "ACP commands");
        const only = await requested(free.id, "command");
        expect(only).toMatchObject(terminal);
        await alice.run.approve.mutate({ runId: free.id, requestId: only.requestId, decision: "approve" });
        const done = await waitForFinish(h.admin, free.id);
        expect(done.status, done.error ?? "").toBe("succeeded");
        const events = await eventsOf(h.admin, free.id);
        expect(events.filter((e) => e.type === "approval.requested")).toHaveLength(1);
        expect(await permission(free.id)).toMatchObject({ decision: "allowed" });
      } finally {
        await runner.stop(0);
      }
    },
  );
});
