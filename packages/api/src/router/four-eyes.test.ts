import { realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { claimAndWork, complete, makeRepo, type RepoFixture } from "../testing/git-runs.js";
import { reasonOf } from "../testing/failures.js";

/** Four eyes per workflow, and every decision names the person who made it. */

describe.each(testProviders)("four eyes on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runner: Caller;
  let ann: Caller;
  let ben: Caller;
  let fx: RepoFixture;
  let projectId: string;

  beforeAll(async () => {
    api = await startTestApi(provider, { repoRoots: [realpathSync(tmpdir())] });
    seed = await seedBoard(api);
    runner = await api.as("runner", seed.workspace.id, "rig-7");
    ann = (await api.person("ann@team.test", { [seed.workspace.id]: "admin" })).caller;
    ben = (await api.person("ben@team.test", { [seed.workspace.id]: "admin" })).caller;
    fx = makeRepo();
    projectId = (await api.admin.project.create({ workspaceId: seed.workspace.id, name: "fx", repoPath: fx.repo, baseBranch: "main" })).id;
  });
  afterAll(async () => {
    await api.close();
    fx.cleanup();
  });

  async function succeeded(requireIndependentReview: boolean, title: string) {
    const wf = await ann.workflow.create({
      workspaceId: seed.workspace.id,
      name: `wf ${title}`,
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "true",
      requireIndependentReview,
      dod: [{ key: "review", title: "Reviewed", required: true }],
    });
    const card = await ann.card.create({ boardId: seed.board.id, projectId, title });
    const run = await ann.run.create({ cardId: card.id, workflowId: wf.id });
    const started = await claimAndWork(runner, seed.workspace.id, run.id, fx, { files: { [`${title}.txt`]: "x\n" } });
    await complete(runner, started);
    const detail = await ann.run.byId({ runId: run.id });
    const { evidence } = await ann.dod.addEvidence({ runId: run.id, itemId: detail.dodItems[0]!.id, kind: "text", payload: { text: "looked at it" } });
    return { runId: run.id, evidenceId: evidence.id };
  }

  it("the requester cannot validate a required item; the only reviewer cannot merge; the merge panel says why", async () => {
    const { runId, evidenceId } = await succeeded(true, "guarded");
    expect(await reasonOf(ann.dod.validate({ evidenceId }))).toBe("INDEPENDENT_REVIEW");
    await ben.dod.validate({ evidenceId });
    const gate = await ben.run.mergeability({ runId });
    expect(gate.reasons.map((r) => r.reason)).toContain("INDEPENDENT_REVIEW");
    expect(gate.reasons.find((r) => r.reason === "INDEPENDENT_REVIEW")?.message).toMatch(/only reviewer/);
    expect(await reasonOf(ben.run.merge({ runId }))).toBe("INDEPENDENT_REVIEW");
    // Ann asked for it and did not review it: she may merge.
    expect((await ann.run.mergeability({ runId })).canMerge).toBe(true);
    const merged = await ann.run.merge({ runId });
    expect(merged.run.status).toBe("merged");
    // Every step names who took it: people by email, the runner by its name.
    const events = await ann.run.events({ runId });
    const actors = Object.fromEntries(events.map((e) => [e.type, e.actor]));
    expect(actors["run.queued"]).toBe("user:ann@team.test");
    expect(actors["run.claimed"]).toBe("runner:rig-7");
    expect(actors["dod.validated"]).toBe("user:ben@team.test");
    expect(actors["run.merged"]).toBe("user:ann@team.test");
  });

  it("without four eyes one person may ask, validate and merge", async () => {
    const { runId, evidenceId } = await succeeded(false, "solo");
    await ann.dod.validate({ evidenceId });
    expect((await ann.run.merge({ runId })).run.status).toBe("merged");
  });
});
