/**
 * The runner end to end: a real API over HTTP on each provider, real repositories, real
 * engines (the anthropic one against the local Messages API server), real processes.
 */
import { existsSync, readFileSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import { startMessagesServer, type MessagesServer } from "@agentboard/testkit/messages-server";
import { testProviders } from "@agentboard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { costUsd } from "../engines/pricing.js";
import { isProcessAlive } from "@agentboard/sandbox";
import { eventsOf, git, makeRepo, processesIn, startHarness, waitForEvent, waitForFinish, waitForOutput, type Harness } from "../testing/harness.js";

const KEY = "sk-ant-runner-test";
const MODEL = "claude-sonnet-4-6";

describe.each(testProviders)("runner on %s", (provider) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(provider);
  });
  afterAll(() => h.close());

  it("runs an anthropic agent end to end: commit on the branch, diff, files, tokens, cost, tool calls", async () => {
    let messages: MessagesServer | undefined;
    const runner = await (async () => {
      messages = await startMessagesServer({
        apiKey: KEY,
        script: [
          {
            text: "Reading the readme.",
            content: [{ type: "tool_use", name: "read_file", input: { path: "README.md" } }],
            usage: { input_tokens: 100, output_tokens: 20 },
          },
          {
            content: [
              { type: "tool_use", name: "edit_file", input: { path: "src/app.ts", old_string: "export const b = 2;", new_string: "export const b = 3;" } },
            ],
            usage: { input_tokens: 200, output_tokens: 30 },
          },
          {
            content: [
              { type: "tool_use", name: "write_file", input: { path: "NOTES.md", content: "# Notes\nb is now 3\n" } },
              { type: "tool_use", name: "read_file", input: { path: "../../../etc/passwd" } },
            ],
            usage: { input_tokens: 300, output_tokens: 40 },
          },
          {
            content: [{ type: "tool_use", name: "run_command", input: { command: "cat NOTES.md && echo ran-ok" } }],
            usage: { input_tokens: 400, output_tokens: 50 },
          },
          { text: "Set b to 3 and wrote NOTES.md\n\nThe readme was fine as it was.", usage: { input_tokens: 500, output_tokens: 60 } },
        ],
      });
      return h.startRunner({ anthropicApiKey: KEY, anthropicBaseUrl: messages.url });
    })();
    try {
      const project = await h.project();
      const queued = await h.createRun(project, { engine: "anthropic", model: MODEL, prompt: "Set b to 3 and write notes." });
      const run = await waitForFinish(h.admin, queued.id);

      expect(run).toMatchObject({ status: "succeeded", errorReason: null, tokensIn: 1500n, tokensOut: 200n, toolCalls: 5 });
      expect(run.costUsd).toBeCloseTo(costUsd(MODEL, { inputTokens: 1500, outputTokens: 200 }), 10);
      expect(run.summary).toBe("Set b to 3 and wrote NOTES.md\n\nThe readme was fine as it was.");
      expect([...(run.filesChanged as string[])].sort()).toEqual(["NOTES.md", "src/app.ts"]);
      expect(run.diff).toContain("+export const b = 3;");
      expect(run.diff).toContain("+b is now 3");
      expect(run.diffStat).toEqual({ files: 2, additions: 3, deletions: 1 });
      expect(run.diffHash).toMatch(/^[0-9a-f]{64}$/);
      expect(run.logs).toContain("tool edit_file");

      // The branch in the project's repository has the commit, with the summary as message.
      expect(git(project.repo, "log", "-1", "--format=%s", run.branch)).toBe("Set b to 3 and wrote NOTES.md");
      expect(git(project.repo, "show", `${run.branch}:src/app.ts`)).toContain("export const b = 3;");
      expect(git(project.repo, "rev-list", "--count", `main..${run.branch}`)).toBe("1");
      // The main checkout was not touched.
      expect(readFileSync(path.join(project.repo, "src/app.ts"), "utf8")).toContain("export const b = 2;");

      const events = await eventsOf(h.admin, run.id);
      const types = events.map((e) => e.type);
      expect(types.filter((t) => t === "tool.call")).toHaveLength(5);
      expect(types.indexOf("run.started")).toBeLessThan(types.indexOf("tool.call"));
      expect(types.at(-1)).toBe("run.succeeded");
      const escaped = events.find((e) => e.type === "tool.result" && (e.payload as { isError?: boolean; name?: string }).isError === true);
      expect(escaped?.payload).toMatchObject({ name: "read_file", isError: true });
      const ran = events.find((e) => e.type === "tool.result" && (e.payload as { name?: string }).name === "run_command");
      expect((ran!.payload as { output: string }).output).toContain("ran-ok");

      const worktrees = await h.api.core.deps.db.prisma.worktree.findMany({ where: { runId: run.id } });
      expect(worktrees).toHaveLength(1);
      expect(worktrees[0]).toMatchObject({ path: run.worktreePath, branch: run.branch });
      expect(worktrees[0]!.sizeBytes).toBeGreaterThan(0);
      // Kept for review.
      expect(existsSync(path.join(run.worktreePath!, "NOTES.md"))).toBe(true);
    } finally {
      await runner.stop(0);
      await messages?.close();
    }
  });

  it("runs the setup script, the test command, the DoD checks and post hooks", async () => {
    const runner = await h.startRunner();
    try {
      const project = await h.project({
        setupScript: "mkdir -p .cache && echo ready > .cache/setup",
        testCommand: "test -f result.txt && echo tests-ok",
        hooks: { post: ["echo post-$AGENTBOARD_RUN_STATUS-$AGENTBOARD_RUN_ID"] },
      });
      const workflow = await h.api.core.deps.db.prisma.workflow.create({
        data: {
          workspaceId: h.workspace.id,
          name: "scripted",
          promptTemplate: "write the result",
          engine: "command",
          command: "test -f .cache/setup && echo hello > result.txt",
          dod: [
            { key: "has-result", title: "result.txt says hello", required: true, check: "grep -q hello result.txt", autoValidate: true },
            { key: "never", title: "a check that fails", required: false, check: "echo nope >&2; exit 4" },
            { key: "manual", title: "looked at by a human", required: true },
          ],
        },
      });
      const card = await h.admin.card.create.mutate({ boardId: h.board.id, projectId: project.id, title: "Scripted" });
      const queued = await h.admin.run.create.mutate({ cardId: card.id, workflowId: workflow.id });
      const run = await waitForFinish(h.admin, queued.id);

      expect(run).toMatchObject({ status: "succeeded", testsRun: true, testsPassed: true, filesChanged: ["result.txt"] });
      expect(run.testOutput).toContain("tests-ok");
      const events = await eventsOf(h.admin, run.id);
      // Each check became evidence on its DoD item; the auto-validating one validated itself.
      const items = new Map(run.dodItems.map((i) => [i.key, i]));
      expect(items.get("has-result")).toMatchObject({ status: "validated" });
      expect(items.get("never")).toMatchObject({ status: "failed" });
      expect(items.get("manual")).toMatchObject({ status: "pending" });
      const passed = items.get("has-result")!.evidence[0]!;
      expect(passed).toMatchObject({ kind: "check", command: "grep -q hello result.txt", exitCode: 0, validatedBy: expect.stringContaining("runner") });
      expect(typeof passed.durationMs).toBe("number");
      const failed = items.get("never")!.evidence[0]!;
      expect(failed).toMatchObject({ kind: "check", exitCode: 4, validatedAt: null });
      expect(failed.text).toContain("nope");
      expect(events.filter((e) => e.type === "dod.evidence")).toHaveLength(2);
      expect(events.filter((e) => e.type === "dod.validated")).toHaveLength(1);
      const post = events.find((e) => e.type === "hook.result");
      expect(post?.payload).toMatchObject({ kind: "post", ok: true });
      expect((post!.payload as { outputTail: string }).outputTail).toContain(`post-succeeded-${run.id}`);
      expect(events.find((e) => e.type === "runner.setup")?.payload).toMatchObject({ ok: true, exitCode: 0 });
      // Setup output is ignored by git, so it is not part of the change.
      expect(git(project.repo, "show", "--name-only", "--format=", run.branch)).toBe("result.txt");
    } finally {
      await runner.stop(0);
    }
  });

  it("the default workflow's \"Tests pass\" is satisfied by the project's test command, run once", async () => {
    const runner = await h.startRunner();
    try {
      // Each run of the test command leaves a line in the worktree (after the commit: not part of the change).
      const testCommand = "echo ran >> .tests-ran; test -f result.txt && echo tests-ok";
      const project = await h.project({ testCommand });
      const passing = await waitForFinish(h.admin, (await h.createRun(project, { engine: "command", command: "echo hello > result.txt" })).id);
      expect(passing).toMatchObject({ status: "succeeded", testsRun: true, testsPassed: true, filesChanged: ["result.txt"] });
      const items = new Map(passing.dodItems.map((i) => [i.key, i]));
      expect(items.get("tests")).toMatchObject({ title: "Tests pass", check: testCommand, autoValidate: true, status: "validated" });
      expect(items.get("tests")!.evidence[0]).toMatchObject({
        kind: "check",
        command: testCommand,
        exitCode: 0,
        validatedBy: expect.stringContaining("runner"),
      });
      expect(items.get("tests")!.evidence[0]!.text).toContain("tests-ok");
      expect(items.get("review")).toMatchObject({ status: "pending", check: null });
      expect(readFileSync(path.join(passing.worktreePath!, ".tests-ran"), "utf8")).toBe("ran\n");

      // Failing tests fail the item; a project without a test command leaves it to a person.
      const failing = await waitForFinish(h.admin, (await h.createRun(project, { engine: "command", command: "echo no result here" })).id);
      expect(failing).toMatchObject({ testsRun: true, testsPassed: false });
      expect(failing.dodItems.find((i) => i.key === "tests")).toMatchObject({ status: "failed" });
      const untested = await h.project();
      const manual = await waitForFinish(h.admin, (await h.createRun(untested, { engine: "command", command: "true" })).id);
      expect(manual.dodItems.find((i) => i.key === "tests")).toMatchObject({ status: "pending", check: null, autoValidate: false });
    } finally {
      await runner.stop(0);
    }
  });

  it("a failing pre hook vetoes the run: no engine starts and the hook's output is the reason", async () => {
    const runner = await h.startRunner();
    try {
      const project = await h.project({
        hooks: {
          pre: ["echo checking", "echo 'frozen: release week' >&2; exit 3", "touch SECOND_HOOK_RAN"],
          error: ["echo error-hook-$AGENTBOARD_ERROR_REASON"],
        },
      });
      const queued = await h.createRun(project, { engine: "command", command: "touch ENGINE_RAN" });
      const run = await waitForFinish(h.admin, queued.id);

      expect(run).toMatchObject({ status: "failed", errorReason: "hook_veto" });
      expect(run.error).toContain("frozen: release week");
      expect(run.error).toContain("exited with 3");
      const events = await eventsOf(h.admin, run.id);
      const types = events.map((e) => e.type);
      expect(types).not.toContain("run.started");
      expect(types).not.toContain("command.output");
      const hooks = events.filter((e) => e.type === "hook.result").map((e) => e.payload as { kind: string; ok: boolean; outputTail: string });
      expect(hooks.map((x) => [x.kind, x.ok])).toEqual([
        ["pre", true],
        ["pre", false],
        ["error", true],
      ]);
      expect(hooks[2]!.outputTail).toContain("error-hook-hook_veto");
      expect(existsSync(path.join(run.worktreePath!, "ENGINE_RAN"))).toBe(false);
      expect(existsSync(path.join(run.worktreePath!, "SECOND_HOOK_RAN"))).toBe(false);
    } finally {
      await runner.stop(0);
    }
  });

  it("a run over its timeout fails with reason timeout and its processes are gone", async () => {
    const runner = await h.startRunner({ killGraceMs: 500 });
    try {
      const project = await h.project();
      const queued = await h.createRun(project, { engine: "command", command: 'sleep 300 & echo "child:$!"; wait', timeoutMs: 1_000 });
      await waitForOutput(h.admin, queued.id, "child:");
      const tree = await processesIn(path.join(h.worktreesDir, queued.id));
      expect(tree.length).toBeGreaterThan(1);
      const run = await waitForFinish(h.admin, queued.id);
      expect(run).toMatchObject({ status: "failed", errorReason: "timeout" });
      expect(run.error).toContain("did not finish within 1s");
      expect(tree.filter(isProcessAlive)).toEqual([]);
    } finally {
      await runner.stop(0);
    }
  });

  it("a cancel reaches the runner within a second through the stream and the process tree is gone within 10 s", async () => {
    // The default heartbeat (10 s) is far too slow to deliver this cancel in time: the stream must.
    const runner = await h.startRunner({ heartbeatMs: 10_000 });
    try {
      const project = await h.project();
      const queued = await h.createRun(project, {
        engine: "command",
        // TERM is ignored (and the ignoring inherited), so only the SIGKILL that follows ends them.
        command: 'trap "" TERM; sleep 300 & echo "first:$!"; (sleep 300 & echo "second:$!"; wait) & echo "leader:$$"; wait',
      });
      await waitForOutput(h.admin, queued.id, ["first:", "second:", "leader:"]);
      // The leader, both sleeps and the subshell, seen from the host (their `$!` are the sandbox's pids).
      const pids = await processesIn(path.join(h.worktreesDir, queued.id));
      expect(pids.length).toBeGreaterThanOrEqual(4);
      const t0 = Date.now();
      await h.admin.run.cancel.mutate({ runId: queued.id, reason: "changed my mind" });
      const run = await waitForFinish(h.admin, queued.id);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(run.status).toBe("cancelled");
      for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);

      const events = await eventsOf(h.admin, run.id);
      const requested = events.find((e) => e.type === "run.cancel_requested")!;
      const seen = events.find((e) => e.type === "runner.stop")!;
      expect(seen.payload).toEqual({ cause: "cancel" });
      expect(new Date(seen.createdAt).getTime() - new Date(requested.createdAt).getTime()).toBeLessThan(1_000);
    } finally {
      await runner.stop(0);
    }
  });

  it("clones the project's remote when its repository is not on this machine, and pushes the run branch", async () => {
    const runner = await h.startRunner();
    try {
      const origin = await h.project();
      const bare = path.join(h.root, `remote-${Date.now()}.git`);
      git(h.root, "clone", "-q", "--bare", origin.repo, bare);
      // The server's copy is where the server keeps it; this "machine" (the runner's) has
      // none, as a runner elsewhere would not: moved away once the project exists.
      const serverCopy = path.join(h.root, `server-copy-${Date.now()}`);
      git(h.root, "clone", "-q", bare, serverCopy);
      const project = await h.admin.project.create.mutate({
        workspaceId: h.workspace.id,
        name: "remote-only",
        repoPath: serverCopy,
        remoteUrl: `file://${bare}`,
        baseBranch: "main",
      });
      renameSync(serverCopy, `${serverCopy}-elsewhere`);
      const queued = await h.createRun(project, { engine: "command", command: "echo cloned > cloned.txt" });
      const run = await waitForFinish(h.admin, queued.id);
      expect(run).toMatchObject({ status: "succeeded", filesChanged: ["cloned.txt"] });
      expect(statSync(path.join(run.worktreePath!, ".git")).isDirectory()).toBe(true);
      expect(git(bare, "show", `${run.branch}:cloned.txt`)).toBe("cloned");
    } finally {
      await runner.stop(0);
    }
  });

  it("--concurrency 2 never runs three agents at once", async () => {
    let running = 0;
    let most = 0;
    const runner = await h.startRunner(
      { concurrency: 2 },
      {
        observer: {
          onEngineStart() {
            running++;
            most = Math.max(most, running);
          },
          onFinished() {
            running--;
          },
        },
      },
    );
    try {
      const project = await h.project();
      const runs = [];
      for (let i = 0; i < 6; i++) runs.push(await h.createRun(project, { engine: "command", command: "sleep 0.4" }, `Task ${i}`));
      const done = await Promise.all(runs.map((r) => waitForFinish(h.admin, r.id)));
      expect(done.every((r) => r.status === "succeeded")).toBe(true);
      expect(most).toBe(2);

      // The server's view agrees: never more than two of these runs held at once.
      const rows = await h.api.core.deps.db.prisma.run.findMany({ where: { id: { in: runs.map((r) => r.id) } } });
      const edges = rows.flatMap((r) => [
        { t: r.claimedAt!.getTime(), d: 1 },
        { t: r.finishedAt!.getTime(), d: -1 },
      ]);
      edges.sort((a, b) => a.t - b.t || a.d - b.d);
      let held = 0;
      let maxHeld = 0;
      for (const e of edges) maxHeld = Math.max(maxHeld, (held += e.d));
      expect(maxHeld).toBe(2);
    } finally {
      await runner.stop(0);
    }
  });

  it("shutting down stops agents that outlast the grace period and reports them", async () => {
    const runner = await h.startRunner({ killGraceMs: 500 });
    const project = await h.project();
    const queued = await h.createRun(project, { engine: "command", command: 'echo "leader:$$"; sleep 300' });
    await waitForOutput(h.admin, queued.id, "leader:");
    const tree = await processesIn(path.join(h.worktreesDir, queued.id));
    expect(tree.length).toBeGreaterThan(0);
    await runner.stop(200);
    const run = await h.admin.run.byId.query({ runId: queued.id });
    expect(run).toMatchObject({ status: "failed", errorReason: "runner_shutdown" });
    expect(tree.filter(isProcessAlive)).toEqual([]);
  });

  it("child processes see an allowlisted environment: the run's facts and the secrets the project declares, nothing else", async () => {
    const runner = await h.startRunner(
      {},
      {
        baseEnv: {
          ...process.env,
          ANTHROPIC_API_KEY: "sk-leak",
          GITHUB_TOKEN: "ghp-leak",
          DATABASE_URL: "postgres://u:pw@db/x",
          SENTRY_DSN: "https://dsn-leak@s/1",
          NPM_TOKEN: "npm-declared",
        },
      },
    );
    try {
      const project = await h.project();
      await h.admin.project.update.mutate({ projectId: project.id, sandbox: { secrets: ["NPM_TOKEN", "GITHUB_TOKEN_UNSET"] } });
      const queued = await h.createRun(project, { engine: "command", command: "env | sort > env.txt" });
      const run = await waitForFinish(h.admin, queued.id);
      expect(run.status).toBe("succeeded");
      const env = readFileSync(path.join(run.worktreePath!, "env.txt"), "utf8");
      expect(env).toContain("NPM_TOKEN=npm-declared");
      expect(env).toContain(`AGENTBOARD_RUN_ID=${run.id}`);
      expect(env).toContain("HOME=/home/agent");
      for (const leak of ["sk-leak", "ghp-leak", "pw@db", "dsn-leak", h.runnerToken]) expect(env).not.toContain(leak);
    } finally {
      await runner.stop(0);
    }
  });

  it("with the admin token and no --workspace it serves every workspace (the local runner's mode)", async () => {
    const other = await h.admin.workspace.create.mutate({ name: "Other", slug: `other-${provider}` });
    const otherBoard = await h.admin.board.create.mutate({ workspaceId: other.id, name: "B" });
    const mine = await h.project();
    // One repository belongs to one workspace: the other workspace has its own.
    const theirRepo = makeRepo(path.join(h.root, `theirs-${Date.now()}`));
    const theirs = await h.admin.project.create.mutate({ workspaceId: other.id, name: "theirs", repoPath: theirRepo, baseBranch: "main" });
    const runner = await h.startRunner({ token: h.api.adminToken, workspaces: [], name: "local-test" });
    try {
      const card = await h.admin.card.create.mutate({ boardId: otherBoard.id, projectId: theirs.id, title: "Elsewhere" });
      const a = await h.admin.run.create.mutate({ cardId: card.id, engine: "command", command: "echo a > a.txt" });
      const b = await h.createRun(mine, { engine: "command", command: "echo b > b.txt" });
      const [ra, rb] = await Promise.all([waitForFinish(h.admin, a.id), waitForFinish(h.admin, b.id)]);
      expect([ra.status, rb.status]).toEqual(["succeeded", "succeeded"]);
      const runners = await h.admin.runner.list.query({ workspaceId: other.id });
      expect(runners.map((r) => r.name)).toContain("local-test");
    } finally {
      await runner.stop(0);
    }
  });

  it("an anthropic run without an API key fails at once with a clear error", async () => {
    const runner = await h.startRunner({ anthropicApiKey: undefined });
    try {
      const project = await h.project();
      const queued = await h.createRun(project, { engine: "anthropic", prompt: "anything" });
      const run = await waitForFinish(h.admin, queued.id);
      expect(run).toMatchObject({ status: "failed", errorReason: "no_api_key" });
      expect(run.error).toContain("ANTHROPIC_API_KEY");
      const events = await waitForEvent(h.admin, run.id, (e) => e.type === "run.failed");
      expect(events.actor).toBe("runner:test-runner");
    } finally {
      await runner.stop(0);
    }
  });
});
