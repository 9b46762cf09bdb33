/**
 * A card's thread of runs end to end: a real API over HTTP on each provider, the real
 * runner, real git, and the anthropic engine against the local Messages API server, whose
 * request log is the witness of what the model was sent.
 */
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { createAgentboardClient, errorReason, isAgentboardError, type AgentboardClient } from "@agentboard/client";
import { startMessagesServer, type MessagesServer, type RecordedRequest, type ScriptFn, type Turn } from "@agentboard/testkit/messages-server";
import { testProviders } from "@agentboard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsOf, git, startHarness, waitForFinish, writeFiles, type Harness, type TestRunner } from "../testing/harness.js";

const KEY = "sk-ant-follow-up-test";
const MODEL = "claude-sonnet-4-6";
const REAL_CLAUDE = path.join(path.dirname(createRequire(import.meta.url).resolve("@anthropic-ai/claude-code/package.json")), "bin/claude.exe");

const write = (path: string, content: string): Turn => ({ content: [{ type: "tool_use", name: "write_file", input: { path, content } }] });

async function refusal(call: Promise<unknown>): Promise<{ code: string | undefined; reason: string | undefined; details: unknown }> {
  try {
    await call;
  } catch (err) {
    if (isAgentboardError(err)) return { code: err.data?.code, reason: errorReason(err), details: (err.data as { details?: unknown } | undefined)?.details };
    throw err;
  }
  throw new Error("the call was not refused");
}

/** The text of a user message (a plain string or its text blocks). */
function userText(m: RecordedRequest["body"]["messages"][number] | undefined): string {
  if (!m) return "";
  if (typeof m.content === "string") return m.content;
  return m.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("\n");
}

describe.each(testProviders)("a card's thread of runs on %s", (provider) => {
  let h: Harness;
  let alice: AgentboardClient;
  let viewer: AgentboardClient;

  beforeAll(async () => {
    h = await startHarness(provider);
    const member = await h.admin.token.create.mutate({ workspaceId: h.workspace.id, role: "member", name: "alice" });
    alice = createAgentboardClient({ url: h.url, token: member.token });
    const v = await h.admin.token.create.mutate({ workspaceId: h.workspace.id, role: "viewer", name: "vera" });
    viewer = createAgentboardClient({ url: h.url, token: v.token });
  });
  afterAll(() => h.close());

  async function withModel(script: Array<Turn | ScriptFn>, runnerOpts: Parameters<Harness["startRunner"]>[0] = {}) {
    const messages: MessagesServer = await startMessagesServer({ apiKey: KEY, script });
    const runner: TestRunner = await h.startRunner({ anthropicApiKey: KEY, anthropicBaseUrl: messages.url, heartbeatMs: 500, ...runnerOpts });
    return {
      messages,
      runner,
      async close() {
        await runner.stop(0);
        await messages.close();
      },
    };
  }

  it(
    "anthropic: the follow-up's first request carries the whole first conversation, then the " +
      "new message; both commits on one branch; the thread's cost is the sum",
    async () => {
      const m = await withModel([write("a.txt", "one\n"), { text: "Wrote a.txt." }, write("b.txt", "two\n"), { text: "Wrote b.txt too." }]);
      try {
        const project = await h.project();
        const first = await h.createRun(project, { engine: "anthropic", model: MODEL }, "Thread of two");
        const done1 = await waitForFinish(h.admin, first.id);
        expect(done1.status).toBe("succeeded");
        expect(done1.headCommit).toMatch(/^[0-9a-f]{40}$/);

        // A viewer may not send the agent back; a member may.
        expect(await refusal(viewer.run.followUp.mutate({ runId: first.id, message: "no" }))).toMatchObject({ code: "FORBIDDEN" });
        const second = await alice.run.followUp.mutate({ runId: first.id, message: "Now add b.txt as well." });
        expect(second).toMatchObject({
          parentRunId: first.id,
          branch: first.branch,
          kind: "follow_up",
          status: "queued",
          createdBy: "member:alice",
          startCommit: done1.headCommit,
        });
        // Only the thread's latest run can be continued.
        expect(await refusal(alice.run.followUp.mutate({ runId: first.id, message: "again" }))).toMatchObject({ code: "CONFLICT", reason: "NOT_THREAD_HEAD" });
        const done2 = await waitForFinish(h.admin, second.id);
        expect(done2.status).toBe("succeeded");

        // The model's log: request 3 is the follow-up's first. It starts with everything of
        // the first run (request 2's messages and the answer to it), then the new message.
        expect(m.messages.requests).toHaveLength(4);
        const [, lastOfFirst, firstOfSecond] = m.messages.requests as [RecordedRequest, RecordedRequest, RecordedRequest];
        const earlier = lastOfFirst.body.messages;
        expect(firstOfSecond.body.messages.slice(0, earlier.length)).toEqual(earlier);
        const [answer, asked] = firstOfSecond.body.messages.slice(earlier.length);
        expect(answer).toMatchObject({ role: "assistant", content: [{ type: "text", text: "Wrote a.txt." }] });
        expect(asked?.role).toBe("user");
        expect(userText(asked)).toBe("Now add b.txt as well.");
        expect(userText(firstOfSecond.body.messages[0])).toBe(first.prompt);
        const context = (await eventsOf(h.admin, second.id)).find((e) => e.type === "agent.context");
        expect(context?.payload).toMatchObject({ mode: "resumed", reason: null });

        // One branch, both runs' commits, the follow-up's diff the whole branch against main.
        const log = git(project.repo, "log", "--format=%s", `main..${first.branch}`).split("\n");
        expect(log).toEqual(["Wrote b.txt too.", "Wrote a.txt."]);
        expect(git(project.repo, "show", `${first.branch}:a.txt`)).toBe("one");
        expect(git(project.repo, "show", `${first.branch}:b.txt`)).toBe("two");
        expect([...(done2.filesChanged as string[])].sort()).toEqual(["a.txt", "b.txt"]);
        expect(done2.headCommit).toBe(git(project.repo, "rev-parse", first.branch));

        // The same runner held the first checkout: it took it over.
        const wt = (await eventsOf(h.admin, second.id)).find((e) => e.type === "runner.worktree");
        expect(wt?.payload).toMatchObject({ reused: true, startCommit: done1.headCommit });

        const threads = await viewer.run.thread.query({ cardId: first.cardId });
        expect(threads.threads).toHaveLength(1);
        const t = threads.threads[0]!;
        expect(t.runs.map((r) => [r.id, r.kind, r.createdBy])).toEqual([
          [first.id, "run", "admin:bootstrap"],
          [second.id, "follow_up", "member:alice"],
        ]);
        expect(t.costUsd).toBeCloseTo(done1.costUsd + done2.costUsd, 10);
        expect(t.costUsd).toBeGreaterThan(done1.costUsd);
        expect(t.tokensIn).toBe(done1.tokensIn + done2.tokensIn);
      } finally {
        await m.close();
      }
    },
  );

  it("anthropic: a conversation too large to resume starts anew from the thread's summary, and says so", async () => {
    const m = await withModel([write("c.txt", "x\n".repeat(200)), { text: "Wrote c.txt." }, { text: "Looked again." }], { resumeMaxChars: 500 });
    try {
      const project = await h.project();
      const first = await h.createRun(project, { engine: "anthropic", model: MODEL }, "Large thread");
      expect((await waitForFinish(h.admin, first.id)).status).toBe("succeeded");
      const second = await alice.run.followUp.mutate({ runId: first.id, message: "Check c.txt once more." });
      expect((await waitForFinish(h.admin, second.id)).status).toBe("succeeded");
      const req = m.messages.requests[2]!;
      expect(req.body.messages).toHaveLength(1);
      const seeded = userText(req.body.messages[0]);
      expect(seeded).toContain("## The task\n");
      expect(seeded).toContain("Task: Large thread");
      expect(seeded).toContain("## What run 1 reported\nWrote c.txt.");
      expect(seeded).toContain("1 files, +200 -0: c.txt");
      expect(seeded.endsWith("## What to do now\nCheck c.txt once more.")).toBe(true);
      const context = (await eventsOf(h.admin, second.id)).find((e) => e.type === "agent.context");
      expect(context?.payload).toMatchObject({ mode: "seeded" });
      expect(String((context!.payload as { reason?: string }).reason)).toMatch(/^transcript_too_large/);
    } finally {
      await m.close();
    }
  });

  it("command: the follow-up runs its own command on the branch; without the parent's checkout, the branch tip is checked out anew", async () => {
    const project = await h.project();
    const first = await h.createRun(project, { engine: "command", command: "echo one > one.txt" }, "Commands thread");
    const runner = await h.startRunner({ name: "runner-one" });
    try {
      expect((await waitForFinish(h.admin, first.id)).status).toBe("succeeded");
      // The first checkout is gone (a sweep, a disk cleaned by hand): the runner starts from the branch.
      rmSync(path.join(h.worktreesDir, first.id), { recursive: true, force: true });
      const second = await alice.run.followUp.mutate({ runId: first.id, message: "and two", command: "cat one.txt > two.txt" });
      const done = await waitForFinish(h.admin, second.id);
      expect(done.status).toBe("succeeded");
      expect(git(project.repo, "show", `${first.branch}:two.txt`)).toBe("one");
      expect([...(done.filesChanged as string[])].sort()).toEqual(["one.txt", "two.txt"]);
      const wt = (await eventsOf(h.admin, second.id)).find((e) => e.type === "runner.worktree");
      expect(wt?.payload).toMatchObject({ reused: false, startCommit: expect.stringMatching(/^[0-9a-f]{40}$/) });
      expect(git(project.repo, "rev-list", "--count", `main..${first.branch}`)).toBe("2");
    } finally {
      await runner.stop(0);
    }
  });

  it("anthropic: a message sent to the running agent reaches the model's next request, once, logged with its author", async () => {
    const note = "Use the helper in util.ts, please.";
    const carries = (r: RecordedRequest) => r.body.messages.some((msg) => msg.role === "user" && userText(msg).includes(note));
    // The model keeps working (short commands) until the message has reached it, then ends.
    const turn: ScriptFn = (req) =>
      carries(req) ? { text: "Switched to the helper." } : { content: [{ type: "tool_use", name: "run_command", input: { command: "sleep 0.1" } }] };
    const m = await withModel(Array.from({ length: 200 }, () => turn));
    try {
      const project = await h.project();
      const run = await h.createRun(project, { engine: "anthropic", model: MODEL }, "Listen while working");
      await m.messages.waitForRequest(1);
      const sent = await alice.run.sendMessage.mutate({ runId: run.id, text: note });
      const done = await waitForFinish(h.admin, run.id);
      expect(done.status).toBe("succeeded");
      const first = m.messages.requests.findIndex(carries);
      expect(first).toBeGreaterThan(0);
      expect(m.messages.requests).toHaveLength(first + 1);
      const text = userText(m.messages.requests[first]!.body.messages.at(-1));
      expect(text).toBe(`A message from member:alice while you work:\n${note}`);
      const events = await eventsOf(h.admin, run.id);
      const logged = events.find((e) => e.type === "user.message");
      expect(logged).toMatchObject({ actor: "member:alice", payload: { messageId: sent.messageId, text: note } });
      const handed = events.filter((e) => e.type === "agent.user_message");
      expect(handed).toHaveLength(1);
      expect(handed[0]!.seq).toBeGreaterThan(logged!.seq);
      expect(handed[0]!.payload).toMatchObject({ messageId: sent.messageId });
      // Ended now: the next message is refused, with the way forward.
      expect(await refusal(alice.run.sendMessage.mutate({ runId: run.id, text: "one more" }))).toMatchObject({ code: "CONFLICT", reason: "RUN_ENDED" });
    } finally {
      await m.close();
    }
  });

  it(
    "a moving base: a clean update is a merge commit the run follows; a conflicting one " +
      "changes nothing; the agent resolves it, or fails with conflicts_unresolved",
    async () => {
      const project = await h.project();
      const run = await h.createRun(
        project,
        { engine: "command", command: "echo feature > feature.txt && sed -i 's/b = 2;/b = 20;/' src/app.ts" },
        "Moving base",
      );
      const runner = await h.startRunner({ name: "runner-base" });
      try {
        expect((await waitForFinish(h.admin, run.id)).status).toBe("succeeded");
        const commitOnMain = (files: Record<string, string>, msg: string) => {
          writeFiles(project.repo, files);
          git(project.repo, "commit", "-qam", msg);
          return git(project.repo, "rev-parse", "main");
        };

        // Clean: a new commit on the branch with both parents; the run's head and diff follow.
        const tipBefore = git(project.repo, "rev-parse", run.branch);
        const main1 = commitOnMain({ "README.md": "# demo, documented\n" }, "docs");
        const clean = await alice.run.updateFromBase.mutate({ runId: run.id });
        expect(clean.status).toBe("updated");
        expect(git(project.repo, "rev-list", "--parents", "-n", "1", run.branch).split(" ").slice(1)).toEqual([tipBefore, main1]);
        const updated = await h.admin.run.byId.query({ runId: run.id });
        expect(updated.headCommit).toBe(git(project.repo, "rev-parse", run.branch));
        expect([...(updated.filesChanged as string[])].sort()).toEqual(["feature.txt", "src/app.ts"]);
        expect((await eventsOf(h.admin, run.id)).find((e) => e.type === "run.branch_updated")?.actor).toBe("member:alice");
        expect((await alice.run.updateFromBase.mutate({ runId: run.id })).status).toBe("up-to-date");

        // Conflicting: nothing changes, the files are listed.
        const tip = git(project.repo, "rev-parse", run.branch);
        commitOnMain({ "src/app.ts": "export const a = 1;\nexport const b = 200;\n" }, "b is 200");
        const refused = await refusal(alice.run.updateFromBase.mutate({ runId: run.id }));
        expect(refused).toMatchObject({ code: "CONFLICT", reason: "MERGE_CONFLICT", details: { files: ["src/app.ts"], suggestion: "run.resolveConflicts" } });
        expect(git(project.repo, "rev-parse", run.branch)).toBe(tip);

        // The agent resolves them (here a scripted one that keeps the branch's side): a merge commit.
        const resolve = await alice.run.resolveConflicts.mutate({
          runId: run.id,
          command: "sed -i '/^<<<<<<< /d; /^=======$/d; /^>>>>>>> /d; /b = 200;/d' src/app.ts",
        });
        expect(resolve).toMatchObject({ kind: "resolve_conflicts", parentRunId: run.id, branch: run.branch });
        const resolved = await waitForFinish(h.admin, resolve.id);
        expect(resolved.status).toBe("succeeded");
        const mainTip = git(project.repo, "rev-parse", "main");
        expect(git(project.repo, "rev-list", "--parents", "-n", "1", run.branch).split(" ").slice(1)).toEqual([tip, mainTip]);
        expect(git(project.repo, "show", `${run.branch}:src/app.ts`)).toBe("export const a = 1;\nexport const b = 20;");
        expect((await eventsOf(h.admin, resolve.id)).find((e) => e.type === "runner.merge_started")?.payload).toMatchObject({ conflicts: ["src/app.ts"] });

        // An agent that leaves the markers: the run fails, the branch keeps its tip.
        commitOnMain({ "src/app.ts": "export const a = 1;\nexport const b = 2000;\n" }, "b is 2000");
        const tip2 = git(project.repo, "rev-parse", run.branch);
        const lazy = await alice.run.resolveConflicts.mutate({ runId: resolve.id, command: "true" });
        const failed = await waitForFinish(h.admin, lazy.id);
        expect(failed).toMatchObject({ status: "failed", errorReason: "conflicts_unresolved" });
        expect(failed.error).toContain("src/app.ts");
        expect(git(project.repo, "rev-parse", run.branch)).toBe(tip2);
      } finally {
        await runner.stop(0);
      }
    },
  );

  it("claude-code confined in the run's sandbox: the follow-up resumes the session the first run kept", async () => {
    const m = await withModel([{ text: "Noted: pelican." }, { text: "The word was pelican." }], { claudeCodeBin: REAL_CLAUDE, model: MODEL });
    try {
      const project = await h.project();
      const first = await h.createRun(project, { engine: "claude_code", model: MODEL }, "Remember the word pelican");
      expect((await waitForFinish(h.admin, first.id)).status).toBe("succeeded");
      const second = await alice.run.followUp.mutate({ runId: first.id, message: "Which word did I ask you to remember?" });
      expect((await waitForFinish(h.admin, second.id)).status).toBe("succeeded");

      // Both runs were confined (the CLI ran as the sandbox's user), and the second resumed.
      for (const run of [first, second]) {
        const sandbox = (await eventsOf(h.admin, run.id)).find((e) => e.type === "runner.sandbox")?.payload;
        expect(sandbox).toMatchObject({ confined: true, user: "agent" });
      }
      const context = (await eventsOf(h.admin, second.id)).find((e) => e.type === "agent.context")?.payload;
      expect(context).toMatchObject({ mode: "resumed", reason: null });
      // The follow-up's request carries the first run's turns, then the new message.
      expect(m.messages.requests).toHaveLength(2);
      const sent = (m.messages.requests[1] as RecordedRequest).body.messages;
      const said = sent.map((msg) => `${msg.role}: ${userText(msg) || JSON.stringify(msg.content)}`);
      expect(said.some((t) => t.startsWith("user:") && t.includes("pelican"))).toBe(true);
      expect(said.some((t) => t.startsWith("assistant:") && t.includes("Noted: pelican."))).toBe(true);
      expect(userText(sent.at(-1))).toContain("Which word did I ask you to remember?");
    } finally {
      await m.close();
    }
  });

  it("a follow-up of a run still going is refused, and so is a message to a run that ended", async () => {
    const project = await h.project();
    const queued = await h.createRun(project, { engine: "command", command: "true" }, "Not yet");
    expect(await refusal(alice.run.followUp.mutate({ runId: queued.id, message: "x" }))).toMatchObject({ code: "CONFLICT", reason: "RUN_ACTIVE" });
    await h.admin.run.cancel.mutate({ runId: queued.id });
    expect(await refusal(alice.run.sendMessage.mutate({ runId: queued.id, text: "hello?" }))).toMatchObject({
      code: "CONFLICT",
      reason: "RUN_ENDED",
      details: { suggestion: "run.followUp" },
    });
  });
});
