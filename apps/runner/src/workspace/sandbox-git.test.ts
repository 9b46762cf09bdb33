/**
 * Git inside the sandbox: the agent owns its checkout's whole `.git` (a private clone), so
 * it can commit; the runner's own commit and diff still work; the run branch reaches the
 * project's repository and merges from the API. Whatever the agent wrote into that `.git`
 * (hooks, fsmonitor, filters) never runs outside the sandbox. And the claim keeps confined
 * runs away from a runner without a sandbox.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsOf, git, startHarness, waitForFinish, type Harness } from "../testing/harness.js";

describe("git inside the sandbox", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite");
  });
  afterAll(() => h.close());

  it("the agent commits; the runner commits the rest, diffs it and the API merges it; agent-written hooks and config never run outside", async () => {
    const runner = await h.startRunner();
    try {
      const project = await h.project();
      const marker = path.join(h.root, "HOST-MARKER");
      const command = [
        "git status --short",
        "echo one > agent.txt && git add agent.txt && git -c user.name=agent -c user.email=agent@sandbox commit -q -m 'agent commit'",
        "git log --oneline | head -3",
        // Traps for a runner or server that would honour the checkout's config outside the sandbox.
        `printf '#!/bin/sh\\ntouch ${marker}\\n' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit`,
        `git config core.fsmonitor "touch ${marker}"`,
        `git config filter.trap.clean "touch ${marker}; cat"`,
        "echo '*.txt filter=trap' > .gitattributes",
        "echo two > runner.txt",
      ].join(" && ");
      const queued = await h.createRun(project, { engine: "command", command });
      const run = await waitForFinish(h.admin, queued.id);
      expect(run.status, run.error ?? "").toBe("succeeded");
      expect([...(run.filesChanged as string[])].sort()).toEqual([".gitattributes", "agent.txt", "runner.txt"]);
      expect(run.diff).toContain("+one");
      expect(run.diff).toContain("+two");

      // The branch is in the project's repository: the agent's commit, then the runner's.
      const log = git(project.repo, "log", "--format=%s", `main..${run.branch}`).split("\n");
      expect(log.at(-1)).toBe("agent commit");
      expect(log).toHaveLength(2);
      const commit = (await eventsOf(h.admin, run.id)).find((e) => e.type === "runner.commit");
      expect(commit?.payload).toMatchObject({ commit: git(project.repo, "rev-parse", run.branch) });

      for (const item of run.dodItems) {
        const { evidence } = await h.admin.dod.addEvidence.mutate({ runId: run.id, itemId: item.id, kind: "text", payload: { text: "checked" } });
        await h.admin.dod.validate.mutate({ evidenceId: evidence.id });
      }
      const merged = await h.admin.run.merge.mutate({ runId: run.id });
      expect(merged.run.status).toBe("merged");
      expect(git(project.repo, "show", "main:runner.txt")).toBe("two");
      // The merge cleaned the run's private clone up like a worktree.
      expect(merged.cleanup?.worktrees.map((w) => w.outcome)).toContain("removed");
      expect(existsSync(run.worktreePath!)).toBe(false);
      expect(existsSync(marker)).toBe(false);
    } finally {
      await runner.stop(0);
    }
  });
});

describe("runs that need a sandbox", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite");
  });
  afterAll(() => h.close());

  it("a runner without one says so, is not given confined runs, and runs an unconfined project's runs saying so", async () => {
    // No bwrap on this runner's PATH: its sandbox is unavailable.
    const runner = await h.startRunner({ name: "no-sandbox" }, { baseEnv: { ...process.env, PATH: "/nonexistent" } });
    try {
      expect(runner.sandbox.support).toMatchObject({ available: false });
      expect(runner.sandbox.support.reason).toContain("bubblewrap");
      const registered = await h.admin.runner.list.query({ workspaceId: h.workspace.id });
      expect(registered.find((r) => r.name === "no-sandbox")?.sandbox).toMatchObject({ available: false });

      const confined = await h.project();
      const waiting = await h.createRun(confined, { engine: "command", command: "echo confined" });
      expect(waiting.labels).toContain("sandbox");
      const loose = await h.project();
      await h.admin.project.update.mutate({ projectId: loose.id, sandbox: { unconfined: true } });
      const unconfined = await h.createRun(loose, { engine: "command", command: "echo unconfined" });
      const done = await waitForFinish(h.admin, unconfined.id);
      expect(done.status).toBe("succeeded");
      const events = await eventsOf(h.admin, done.id);
      expect(events.find((e) => e.type === "runner.sandbox")?.payload).toMatchObject({ confined: false });
      expect(done.logs).toContain("UNCONFINED");
      // The confined run is still waiting for a runner that can confine it.
      expect((await h.admin.run.byId.query({ runId: waiting.id })).status).toBe("queued");
      // Claiming it by id is refused too.
      const { token } = await h.admin.token.create.mutate({ workspaceId: h.workspace.id, role: "runner", name: "by-id" });
      const { createAgentboardClient } = await import("@agentboard/client");
      const byId = createAgentboardClient({ url: h.url, token });
      await expect(byId.run.claim.mutate({ workspaceId: h.workspace.id, runId: waiting.id, sandbox: false })).rejects.toThrow(/requires a sandbox/);
    } finally {
      await runner.stop(0);
    }
  });

  it("only the server's admin may make a project unconfined or allowlist a local address", async () => {
    const project = await h.project();
    const { token } = await h.admin.token.create.mutate({ workspaceId: h.workspace.id, role: "admin", name: "ws-admin" });
    const { createAgentboardClient } = await import("@agentboard/client");
    const wsAdmin = createAgentboardClient({ url: h.url, token });
    await expect(wsAdmin.project.update.mutate({ projectId: project.id, sandbox: { unconfined: true } })).rejects.toThrow(/only the server's admin/);
    await expect(wsAdmin.project.update.mutate({ projectId: project.id, sandbox: { allowlist: ["127.0.0.1:5432"] } })).rejects.toThrow(
      /only the server's admin/,
    );
    await expect(wsAdmin.project.update.mutate({ projectId: project.id, sandbox: { network: { agent: "lan" } } as never })).rejects.toThrow();
    const ok = await wsAdmin.project.update.mutate({
      projectId: project.id,
      sandbox: { network: { setup: "allowlist" }, allowlist: ["registry.npmjs.org"], secrets: ["NPM_TOKEN"] },
    });
    expect(ok.sandbox).toMatchObject({ allowlist: ["registry.npmjs.org"] });
    await expect(wsAdmin.project.update.mutate({ projectId: project.id, sandbox: { secrets: ["AGENTBOARD_TOKEN"] } })).rejects.toThrow(/runner's own/);
  });
});
