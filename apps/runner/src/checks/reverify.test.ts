import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorReason } from "@agentboard/client";
import { testProviders } from "@agentboard/testkit";
import { git, startHarness, waitForEvent, waitForFinish, writeFiles, type Harness, type TestRunner } from "../testing/harness.js";
import { watchRequestSpawns } from "../testing/request-spawns.js";

/**
 * Re-verification at merge time is work a runner claims: the server queues it, a real
 * runner merges the base into the branch in a private checkout, runs the setup script and
 * the checks in its sandbox and reports, and the server merges (or refuses) on that report.
 * Every child process the server starts while handling a call is recorded: a check or the
 * setup script run by the server, in a sandbox or not, shows up there and fails the test.
 */

const MARKER = `reverify-marker-${process.pid}`;

function commitOnMain(repo: string, files: Record<string, string | null>, message: string): string {
  // The project's repository has `main` checked out: commit there, as a person would.
  writeFiles(repo, Object.fromEntries(Object.entries(files).filter((e): e is [string, string] => e[1] !== null)));
  for (const [f, c] of Object.entries(files)) if (c === null) git(repo, "rm", "-q", f);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", message);
  return git(repo, "rev-parse", "HEAD").trim();
}

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(testProviders)("merge re-verification on a runner on %s", (provider) => {
  let h: Harness;
  let runner: TestRunner;
  let watch: ReturnType<typeof watchRequestSpawns>;

  beforeAll(async () => {
    watch = watchRequestSpawns();
    h = await startHarness(provider);
    runner = await h.startRunner({ heartbeatMs: 200 });
  });
  afterAll(async () => {
    watch.restore();
    await h.close();
  });

  /** A succeeded run of a workflow whose one required check is `check`, its DoD satisfied. */
  async function succeededRun(check: string, setupScript?: string) {
    const project = await h.project({ ...(setupScript ? { setupScript } : {}) });
    const wf = await h.admin.workflow.create.mutate({
      workspaceId: h.workspace.id,
      name: `checked-${project.id}`,
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "echo change > change.txt",
      dod: [{ key: "integrated", title: "The project's check", required: true, check, autoValidate: true }],
    });
    const queued = await h.createRun(project, { workflowId: wf.id }, "Checked change");
    const run = await waitForFinish(h.admin, queued.id);
    expect(run.status).toBe("succeeded");
    return { project, run };
  }

  it("an honest check passes on the integrated state: merged, and the check ran on the runner, not in the server", async () => {
    // The check lists what it sees: on the integrated state, the run's file and main's newer one.
    const { project, run } = await succeededRun(
      `test -f change.txt && echo ${MARKER} && echo "reverify=$AGENTBOARD_REVERIFY" && ls`,
      "echo set up > .setup-ran",
    );
    const later = commitOnMain(project.repo, { "later.txt": "later\n" }, "landed meanwhile");
    watch.spawned.length = 0;

    const answer = await h.admin.run.merge.mutate({ runId: run.id, reverify: true });
    expect(answer).toMatchObject({ status: "verifying", merge: null, verification: { status: "queued", baseCommit: later } });
    const merged = await waitForEvent(h.admin, run.id, (e) => e.type === "run.merged");
    expect(merged.payload).toMatchObject({ reverified: true });
    const reverified = (await h.admin.run.events.query({ runId: run.id, limit: 1000 })).find((e) => e.type === "run.reverified");
    expect(reverified?.payload).toMatchObject({
      passed: true,
      baseCommit: later,
      setup: expect.objectContaining({ exitCode: 0 }),
      checks: [expect.objectContaining({ key: "integrated", exitCode: 0, output: expect.stringContaining(MARKER) })],
    });
    const output = JSON.stringify(reverified?.payload);
    expect(output).toContain("reverify=1");
    expect(output).toContain("later.txt");
    expect(output).toContain(".setup-ran");
    const gate = await until("the request to be closed", async () => {
      const g = await h.admin.run.mergeability.query({ runId: run.id });
      return g.verification?.status !== "claimed" ? g : null;
    });
    expect(gate.verification).toMatchObject({ status: "merged", runnerId: expect.any(String) });
    expect((await h.admin.run.byId.query({ runId: run.id })).status).toBe("merged");
    expect(git(project.repo, "log", "-1", "--format=%P", "main").trim().split(" ")[0]).toBe(later);

    // The server did git work for these calls (the watch sees it) and nothing else: no
    // shell, no sandbox, no command of the repository.
    expect(watch.spawned.some((s) => path.basename(s.file) === "git")).toBe(true);
    const foreign = watch.spawned.filter((s) => path.basename(s.file) !== "git" || s.args.some((a) => a.includes(MARKER) || a.includes("setup-ran")));
    expect(foreign).toEqual([]);
  });

  it("a check that fails on the integrated state refuses the merge, with the runner's evidence", async () => {
    const { project, run } = await succeededRun(`echo ${MARKER}; test ! -e BROKEN || { echo "BROKEN landed on main" >&2; exit 3; }`);
    const broken = commitOnMain(project.repo, { BROKEN: "yes\n" }, "break it");
    watch.spawned.length = 0;

    await h.admin.run.merge.mutate({ runId: run.id, reverify: true });
    const gate = await until("the refusal", async () => {
      const g = await h.admin.run.mergeability.query({ runId: run.id });
      return g.verification?.status === "failed" ? g : null;
    });
    expect(gate.verification).toMatchObject({ reason: "REVERIFY_FAILED", baseCommit: broken });
    expect(gate.verification?.report).toMatchObject({
      passed: false,
      checks: [expect.objectContaining({ key: "integrated", exitCode: 3, output: expect.stringContaining("BROKEN landed on main") })],
    });
    expect(gate.reasons.map((r) => r.reason)).not.toContain("VERIFYING");
    expect((await h.admin.run.byId.query({ runId: run.id })).status).toBe("succeeded");
    expect(git(project.repo, "rev-parse", "main").trim()).toBe(broken);
    expect(watch.spawned.filter((s) => path.basename(s.file) !== "git" || s.args.some((a) => a.includes(MARKER)))).toEqual([]);

    // Fixed on main: merging again verifies again and merges.
    commitOnMain(project.repo, { BROKEN: null }, "fix it");
    await h.admin.run.merge.mutate({ runId: run.id, reverify: true });
    await waitForEvent(h.admin, run.id, (e) => e.type === "run.merged");
  });

  it("a hostile check at merge time reaches none of the server's or runner's secrets, nor the project's repository", async () => {
    // What sits around a runner next to the embedded server: the data directory with the
    // stored admin token, and secrets in the runner's own environment.
    const data = path.join(h.root, "data");
    mkdirSync(data, { recursive: true });
    const tokenFile = path.join(data, "admin-token");
    writeFileSync(tokenFile, `${h.api.adminToken}\n`, { mode: 0o600 });
    const hostile = await h.startRunner(
      { heartbeatMs: 200, name: "hostile-env" },
      { baseEnv: { ...process.env, SENTRY_DSN: "SENTRY-MARKER", AGENTBOARD_TOKEN: h.runnerToken } },
    );
    await runner.stop(0);
    try {
      const repoOf = await h.project();
      const check = [
        `echo "H1 admin-token: $(cat ${tokenFile} 2>&1)"`,
        `echo "H2 runner-environ: $(cat /proc/${process.pid}/environ 2>&1 | tr '\\0' ' ')"`,
        `echo "H3 write-repo: $( (echo pwned > ${repoOf.repo}/PWNED) 2>/dev/null && echo wrote || echo refused)"`,
        'echo "H4 environment:"; env',
        "true",
      ].join("; ");
      // The same check ran at the run's end (in the run's sandbox); here it is the merge's.
      const { project, run } = await succeededRun(check);
      commitOnMain(project.repo, { "later.txt": "later\n" }, "landed meanwhile");
      await h.admin.run.merge.mutate({ runId: run.id, reverify: true });
      await waitForEvent(h.admin, run.id, (e) => e.type === "run.merged");
      const reverified = (await h.admin.run.events.query({ runId: run.id, limit: 1000 })).find((e) => e.type === "run.reverified");
      const output = JSON.stringify(reverified?.payload);
      expect(output).toMatch(/H1 admin-token: .*No such file or directory/);
      expect(output).toMatch(/H2 runner-environ: .*No such file or directory/);
      expect(output).toContain("H3 write-repo: refused");
      expect(output).toContain("H4 environment:");
      for (const secret of [h.api.adminToken, h.runnerToken, "SENTRY-MARKER"]) expect(output).not.toContain(secret);
      expect(existsSync(path.join(repoOf.repo, "PWNED"))).toBe(false);
      expect(existsSync(path.join(project.repo, "PWNED"))).toBe(false);
    } finally {
      await hostile.stop(0);
      runner = await h.startRunner({ heartbeatMs: 200 });
    }
  });

  it("with no runner the request waits, visibly, and can be cancelled; a runner started later picks up the next one", async () => {
    const { run } = await succeededRun("true");
    await runner.stop(0);
    await h.admin.run.merge.mutate({ runId: run.id, reverify: true });
    await new Promise((r) => setTimeout(r, 500));
    const waiting = await h.admin.run.mergeability.query({ runId: run.id });
    expect(waiting.verification).toMatchObject({ status: "queued", runnerId: null });
    expect(waiting.reasons).toContainEqual(expect.objectContaining({ reason: "VERIFYING" }));
    expect(await h.admin.run.cancelVerification.mutate({ runId: run.id })).toMatchObject({ status: "cancelled" });
    expect(await h.admin.run.cancelVerification.mutate({ runId: run.id }).catch((e: unknown) => errorReason(e))).toBe("NOT_CANCELLABLE");

    await h.admin.run.merge.mutate({ runId: run.id, reverify: true });
    runner = await h.startRunner({ heartbeatMs: 200 });
    await waitForEvent(h.admin, run.id, (e) => e.type === "run.merged");
  });
});
