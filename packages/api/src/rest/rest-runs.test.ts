import type { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { listenApi } from "../http/handler.js";
import { branchExists, claimAndWork, complete, makeRepo, type RepoFixture } from "../testing/git-runs.js";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import type { RestErrorBody } from "./errors.js";
import type { ZClaim, ZLease, ZRun, ZRunDetail, ZRunEvent, ZRunPage } from "./responses.js";
import { restClient, type RestCall } from "./testing.js";

type Run = z.infer<typeof ZRun>;
type Claim = z.infer<typeof ZClaim>;
type RunEvent = z.infer<typeof ZRunEvent>;

/** Reads server-sent events from a fetch response until `until` says stop. */
async function readEvents(res: Response, until: (frames: { id?: string; event?: string; data?: string }[]) => boolean) {
  const frames: { id?: string; event?: string; data?: string }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (!until(frames)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const frame: Record<string, string> = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const i = line.indexOf(": ");
        if (i > 0) frame[line.slice(0, i)] = line.slice(i + 2);
      }
      if (Object.keys(frame).length) frames.push(frame);
    }
  }
  await reader.cancel();
  return frames;
}

describe.each(testProviders)("REST runs and the runner protocol on %s", (provider) => {
  let api: TestApi;
  let http: Awaited<ReturnType<typeof listenApi>>;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let admin: RestCall;
  let member: RestCall;
  let runnerA: RestCall;
  let runnerB: RestCall;
  let runnerCaller: Caller;
  let memberCaller: Caller;
  let fx: RepoFixture;
  let workflowId: string;

  beforeAll(async () => {
    api = await startTestApi(provider);
    http = await listenApi(api.core);
    seed = await seedBoard(api, `rest-${provider}`);
    const ws = seed.workspace.id;
    admin = restClient(http.url, api.adminToken);
    const m = await api.withToken("member", ws, "mia");
    member = restClient(http.url, m.token);
    memberCaller = m.caller;
    const a = await api.withToken("runner", ws, "rig-a");
    runnerA = restClient(http.url, a.token);
    runnerCaller = a.caller;
    runnerB = restClient(http.url, (await api.withToken("runner", ws, "rig-b")).token);
    fx = makeRepo(api);
    const wf = await api.admin.workflow.create({
      workspaceId: ws,
      name: "Reviewed",
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "true",
      dod: [{ key: "review", title: "Reviewed" }],
    });
    workflowId = wf.id;
  });
  afterAll(async () => {
    await http.close();
    await api.close();
    fx.cleanup();
  });

  async function newRun(title: string, projectId = seed.project.id, extra: Record<string, unknown> = {}) {
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId, title });
    const res = await member<Run>("POST /runs", { body: { cardId: card.id, engine: "command", command: "echo hi", ...extra } });
    expect(res.status).toBe(201);
    return res.body;
  }

  it("a waiting claim is woken by a new run; start, heartbeat, events and complete follow the lease", async () => {
    const ws = seed.workspace.id;
    const waiting = runnerA<Claim>("POST /runs/claim", { body: { workspaceId: ws, waitMs: 20_000 } });
    const run = await newRun("Long-poll");
    const claim = await waiting;
    expect(claim.status).toBe(200);
    expect(claim.body.run.id).toBe(run.id);
    const lease = { leaseToken: claim.body.leaseToken };
    const params = { runId: run.id };

    const other = await runnerB<RestErrorBody>("POST /runs/claim", { body: { workspaceId: ws, runId: run.id } });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: "CONFLICT", reason: "ALREADY_CLAIMED" });

    expect((await runnerA("POST /runs/{runId}/start", { params, body: { ...lease, worktreePath: "/tmp/wt" } })).status).toBe(200);
    const beat = await runnerA<z.infer<typeof ZLease>>("POST /runs/{runId}/heartbeat", { params, body: lease });
    expect(beat.body.cancelRequested).toBe(false);
    expect(Date.parse(beat.body.leaseExpiresAt)).toBeGreaterThan(Date.now());
    const stale = await runnerA<RestErrorBody>("POST /runs/{runId}/heartbeat", { params, body: { leaseToken: "stale" } });
    expect(stale.status).toBe(409);
    expect(stale.body.error.reason).toBe("LEASE_LOST");
    const appended = await runnerA<{ lastSeq: number }>("POST /runs/{runId}/events", {
      params,
      body: { ...lease, events: [{ type: "command.output", payload: { text: "hi\n" } }] },
    });
    expect(appended.body.lastSeq).toBeGreaterThan(2);
    const badType = await runnerA<RestErrorBody>("POST /runs/{runId}/events", { params, body: { ...lease, events: [{ type: "Not A Type" }] } });
    expect(badType.status).toBe(400);
    expect(badType.body.error.field).toBe("events.0.type");
    const done = await runnerA<Run>("POST /runs/{runId}/complete", {
      params,
      body: { ...lease, status: "succeeded", output: { summary: "said hi" }, metrics: { durationMs: 5 } },
    });
    expect(done.body.status).toBe("succeeded");

    const none = await runnerA("POST /runs/claim", { body: { workspaceId: ws, waitMs: 0 } });
    expect(none.status).toBe(204);
  });

  it("lists runs with filters and a cursor; the detail carries DoD items", async () => {
    const made = [await newRun("List 1", seed.project.id, { workflowId }), await newRun("List 2"), await newRun("List 3")];
    const first = await member<z.infer<typeof ZRunPage>>("GET /runs", { query: { workspaceId: seed.workspace.id, status: "queued", limit: 2 } });
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toBeTruthy();
    const rest = await member<z.infer<typeof ZRunPage>>("GET /runs", {
      query: { workspaceId: seed.workspace.id, status: "queued", limit: 2, cursor: first.body.nextCursor! },
    });
    const ids = [...first.body.items, ...rest.body.items].map((r) => r.id);
    for (const r of made) expect(ids).toContain(r.id);
    const several = await member<z.infer<typeof ZRunPage>>("GET /runs", {
      query: { workspaceId: seed.workspace.id, status: ["queued", "succeeded"], since: new Date(0).toISOString() },
    });
    expect(new Set(several.body.items.map((r) => r.status))).toEqual(new Set(["queued", "succeeded"]));
    const badLimit = await member<RestErrorBody>("GET /runs", { query: { workspaceId: seed.workspace.id, limit: "many" as unknown as number } });
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.field).toBe("limit");

    const detail = await member<z.infer<typeof ZRunDetail>>("GET /runs/{runId}", { params: { runId: made[0]!.id } });
    expect(detail.body.dodItems.map((d) => d.key)).toEqual(["review"]);
    expect(detail.body).not.toHaveProperty("leaseToken");
  });

  it("cancels a queued run, and answers 409 NOT_CANCELLABLE once it is finished", async () => {
    const run = await newRun("Cancel me");
    const cancelled = await member<Run>("POST /runs/{runId}/cancel", { params: { runId: run.id }, body: { reason: "superseded" } });
    expect(cancelled.body.status).toBe("cancelled");
    const again = await member<RestErrorBody>("POST /runs/{runId}/cancel", { params: { runId: run.id }, body: {} });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "CONFLICT", reason: "NOT_CANCELLABLE", details: { status: "cancelled" } });
  });

  it("streams a run's events as SSE and resumes after Last-Event-ID; pages them as JSON", async () => {
    const run = await newRun("Stream");
    const url = `${http.url}/api/v1/runs/${run.id}/events`;
    const headers = { authorization: `Bearer ${api.adminToken}`, accept: "text/event-stream" };
    const live = await fetch(url, { headers });
    expect(live.headers.get("content-type")).toContain("text/event-stream");
    const claim = (await runnerA<Claim>("POST /runs/claim", { body: { workspaceId: seed.workspace.id, runId: run.id } })).body;
    const lease = { leaseToken: claim.leaseToken };
    await runnerA("POST /runs/{runId}/start", { params: { runId: run.id }, body: lease });
    await runnerA("POST /runs/{runId}/complete", { params: { runId: run.id }, body: { ...lease, status: "succeeded" } });
    const frames = await readEvents(live, (f) => f.some((x) => x.event === "run.succeeded"));
    expect(frames.map((f) => f.event)).toEqual(["run.queued", "run.claimed", "run.started", "run.succeeded"]);
    expect(frames.map((f) => f.id)).toEqual(["1", "2", "3", "4"]);
    expect((JSON.parse(frames[3]!.data!) as RunEvent).seq).toBe(4);

    const resumed = await readEvents(await fetch(url, { headers: { ...headers, "last-event-id": "2" } }), (f) => f.length >= 2);
    expect(resumed.map((f) => f.id)).toEqual(["3", "4"]);
    const denied = await fetch(url, { headers: { ...headers, authorization: "Bearer ab_nope" } });
    expect(denied.status).toBe(401);
    const missing = await fetch(`${http.url}/api/v1/runs/nope/events`, { headers });
    expect(missing.status).toBe(404);

    const page = await member<RunEvent[]>("GET /runs/{runId}/events", { params: { runId: run.id }, query: { afterSeq: 2, limit: 1 } });
    expect(page.body.map((e) => e.type)).toEqual(["run.started"]);
  });

  it("evidence, validation, rejection, file evidence; mergeability, merge and provenance", async () => {
    const project = await api.admin.project.create({ workspaceId: seed.workspace.id, name: "git", repoPath: fx.repo, baseBranch: "main" });
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: project.id, title: "Feature" });
    const run = await memberCaller.run.create({ cardId: card.id, workflowId });
    const started = await claimAndWork(runnerCaller, seed.workspace.id, run.id, fx, { files: { "src/feature.ts": "export const f = 1;\n" } });
    await complete(runnerCaller, started);
    const params = { runId: run.id };

    const blocked = await member<{ canMerge: boolean }>("GET /runs/{runId}/mergeability", { params });
    expect(blocked.body.canMerge).toBe(false);
    const early = await admin<RestErrorBody>("POST /runs/{runId}/merge", { params, body: {} });
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ reason: "DOD_INCOMPLETE", details: { missing: [expect.objectContaining({ key: "review" })] } });

    type Added = { evidence: { id: string } };
    const file = await member<Added>("POST /runs/{runId}/evidence", {
      params,
      body: { itemKey: "screenshot", itemTitle: "Screenshot", kind: "file", payload: { name: "shot.txt", content: "pixels" } },
    });
    expect(file.status).toBe(201);
    const bytes = await member<{ contentBase64: string }>("GET /evidence/{evidenceId}/file", { params: { evidenceId: file.body.evidence.id } });
    expect(Buffer.from(bytes.body.contentBase64, "base64").toString()).toBe("pixels");
    const rejected = await member<{ evidence: { rejectReason: string } }>("POST /evidence/{evidenceId}/reject", {
      params: { evidenceId: file.body.evidence.id },
      body: { reason: "blurry" },
    });
    expect(rejected.body.evidence.rejectReason).toBe("blurry");
    const both = await member<RestErrorBody>("POST /runs/{runId}/evidence", { params, body: { kind: "text", payload: { text: "x" } } });
    expect(both.status).toBe(400);
    expect(both.body.error.field).toBe("itemKey");

    const text = await member<Added>("POST /runs/{runId}/evidence", { params, body: { itemKey: "review", kind: "text", payload: { text: "read the diff" } } });
    await member("POST /evidence/{evidenceId}/validate", { params: { evidenceId: text.body.evidence.id } });
    const memberMerge = await member<RestErrorBody>("POST /runs/{runId}/merge", { params, body: {} });
    expect(memberMerge.status).toBe(403);
    const merged = await admin<{ merge: { status: string } }>("POST /runs/{runId}/merge", { params, body: { cleanup: false } });
    expect(merged.body.merge.status).toBe("merged");
    const provenance = await member<{ mergedBy: string | null }>("GET /runs/{runId}/provenance", { params });
    expect(JSON.stringify(provenance.body)).toContain("admin");

    const trees = await member<{ id: string; runId: string; removedAt: string | null }[]>("GET /workspaces/{workspaceId}/worktrees", {
      params: { workspaceId: seed.workspace.id },
    });
    const tree = trees.body.find((t) => t.runId === run.id && t.removedAt === null);
    expect(tree).toBeTruthy();
    const memberRemove = await member<RestErrorBody>("DELETE /worktrees/{worktreeId}", { params: { worktreeId: tree!.id } });
    expect(memberRemove.status).toBe(403);
    const removed = await admin("DELETE /worktrees/{worktreeId}", { params: { worktreeId: tree!.id } });
    expect(removed.status).toBe(200);
  });

  it("abort stops the run and removes its worktree and branch", async () => {
    const project = await api.admin.project.create({ workspaceId: seed.workspace.id, name: "git-abort", repoPath: fx.repo, baseBranch: "main" });
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: project.id, title: "Throw away" });
    const run = await memberCaller.run.create({ cardId: card.id, engine: "command", command: "true" });
    const started = await claimAndWork(runnerCaller, seed.workspace.id, run.id, fx, { files: { "x.txt": "x\n" } });
    await complete(runnerCaller, started);
    const aborted = await member<{ run: { status: string } }>("POST /runs/{runId}/abort", { params: { runId: run.id }, body: { reason: "wrong approach" } });
    expect(aborted.body.run.status).toBe("aborted");
    expect(branchExists(fx.repo, started.branch)).toBe(false);
  });
});
