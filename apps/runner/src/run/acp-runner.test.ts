import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acpTestAgent } from "../engines/testing.js";
import { eventsOf, hostPidOf, pidsFrom, startHarness, waitForFinish, waitForOutput, type Harness } from "../testing/harness.js";
import { isProcessAlive } from "@agentboard/sandbox";

/**
 * `acp` runs end to end: an agent profile made through the API, a run that names it, a real
 * runner that starts the profile's ACP agent in the run's worktree, and the run's events,
 * commit and cancel as the server records them.
 */
describe("acp runs through a runner", () => {
  let h: Harness;
  let project: Awaited<ReturnType<Harness["project"]>>;

  beforeAll(async () => {
    h = await startHarness("sqlite");
    project = await h.project();
    const agent = acpTestAgent();
    await h.admin.agentProfile.create.mutate({ workspaceId: h.workspace.id, name: "test-agent", command: agent.command, args: agent.args, env: agent.env });
    await h.startRunner();
  });
  afterAll(async () => h?.close());

  it("runs the profile's agent in the worktree: its updates are the run's events and its file is committed", async () => {
    const run = await h.createRun(project, { engine: "acp", agentProfile: "test-agent", prompt: "work" });
    const done = await waitForFinish(h.admin, run.id);
    expect(done.status, done.error ?? "").toBe("succeeded");
    expect(done.summary).toBe("Done: hello.txt holds hello.");
    expect(done.diff).toContain("+hello");
    expect(done.toolCalls).toBe(3);
    expect(done.costUsd).toBeCloseTo(0.0123);
    const types = (await eventsOf(h.admin, run.id)).map((e) => e.type);
    for (const t of ["agent.plan", "agent.thinking", "agent.message", "tool.call", "agent.permission", "tool.result", "command.output", "agent.usage"])
      expect(types).toContain(t);
  });

  it("a cancel reaches the agent as session/cancel and ends its terminals", async () => {
    const run = await h.createRun(project, { engine: "acp", agentProfile: "test-agent", prompt: "wait" }, "Wait");
    const [inner] = pidsFrom(await waitForOutput(h.admin, run.id, "sleeper:"), "sleeper");
    // The terminal's `$$` is its sandbox's pid; the host's pid of that very `sleep` is what must end.
    // (It printed before it exec'd `sleep`: look again until it has.)
    let sleeper: number | null = null;
    for (let i = 0; i < 100 && sleeper === null; i++) {
      sleeper = await hostPidOf(run.id, inner!, "sleep");
      if (sleeper === null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(sleeper).not.toBeNull();
    expect(isProcessAlive(sleeper!)).toBe(true);
    await h.admin.run.cancel.mutate({ runId: run.id, reason: "enough" });
    const done = await waitForFinish(h.admin, run.id);
    expect(done.status).toBe("cancelled");
    expect(isProcessAlive(sleeper!)).toBe(false);
  });
});
