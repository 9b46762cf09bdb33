import type { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenApi } from "../http/handler.js";
import { seedRepo, startTestApi, type TestApi } from "../testing/harness.js";
import type { RestErrorBody } from "./errors.js";
import type { ZBoard, ZCard, ZProject, ZWorkflow, ZWorkspace } from "./responses.js";
import { restClient, type RestCall } from "./testing.js";

type Workspace = z.infer<typeof ZWorkspace>;
type Board = z.infer<typeof ZBoard>;
type Card = z.infer<typeof ZCard>;
type Project = z.infer<typeof ZProject>;
type Workflow = z.infer<typeof ZWorkflow>;

/** Workspaces, boards, cards, projects and workflows over REST: the same procedures as tRPC. */
describe("REST resources", () => {
  let api: TestApi;
  let http: Awaited<ReturnType<typeof listenApi>>;
  let admin: RestCall;
  let viewer: RestCall;
  let member: RestCall;
  let ws: Workspace;
  let board: Board;
  let project: Project;

  beforeAll(async () => {
    api = await startTestApi("sqlite");
    http = await listenApi(api.core);
    admin = restClient(http.url, api.adminToken);
    const created = await admin<Workspace>("POST /workspaces", { body: { name: "Acme", slug: "acme" } });
    expect(created.status).toBe(201);
    ws = created.body;
    viewer = restClient(http.url, (await api.withToken("viewer", ws.id)).token);
    member = restClient(http.url, (await api.withToken("member", ws.id)).token);
  });
  afterAll(async () => {
    await http.close();
    await api.close();
  });

  it("lists and reads workspaces; dates are ISO strings", async () => {
    const list = await viewer<Workspace[]>("GET /workspaces");
    expect(list.body.map((w) => w.id)).toEqual([ws.id]);
    const one = await viewer<Workspace>("GET /workspaces/{workspaceId}", { params: { workspaceId: ws.id } });
    expect(one.body).toMatchObject({ id: ws.id, slug: "acme" });
    expect(new Date(one.body.createdAt).toISOString()).toBe(one.body.createdAt);
    const forbidden = await member<RestErrorBody>("POST /workspaces", { body: { name: "Other", slug: "other" } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.reason).toBe("FORBIDDEN");
  });

  it("creates, lists and reads boards; a viewer cannot create one", async () => {
    const created = await member<Board>("POST /workspaces/{workspaceId}/boards", { params: { workspaceId: ws.id }, body: { name: "Main" } });
    expect(created.status).toBe(201);
    board = created.body;
    const denied = await viewer<RestErrorBody>("POST /workspaces/{workspaceId}/boards", { params: { workspaceId: ws.id }, body: { name: "Nope" } });
    expect(denied.status).toBe(403);
    const list = await viewer<Board[]>("GET /workspaces/{workspaceId}/boards", { params: { workspaceId: ws.id } });
    expect(list.body.map((b) => b.name)).toEqual(["Main"]);
    const one = await viewer<Board>("GET /boards/{boardId}", { params: { boardId: board.id } });
    expect(one.body.id).toBe(board.id);
    const missing = await viewer<RestErrorBody>("GET /boards/{boardId}", { params: { boardId: "nope" } });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "NOT_FOUND", reason: "NOT_FOUND" });
  });

  it("creates, edits, lists and reads projects (admin)", async () => {
    const body = { name: "app", repoPath: seedRepo(api, "app"), baseBranch: "main" };
    const denied = await member<RestErrorBody>("POST /workspaces/{workspaceId}/projects", { params: { workspaceId: ws.id }, body });
    expect(denied.status).toBe(403);
    const bad = await admin<RestErrorBody>("POST /workspaces/{workspaceId}/projects", {
      params: { workspaceId: ws.id },
      body: { ...body, repoPath: "relative/../path" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "BAD_REQUEST", reason: "BAD_REQUEST", field: "repoPath" });
    const outside = await admin<RestErrorBody>("POST /workspaces/{workspaceId}/projects", {
      params: { workspaceId: ws.id },
      body: { ...body, repoPath: "/etc" },
    });
    expect(outside.status).toBe(400);
    expect(outside.body.error).toMatchObject({ code: "BAD_REQUEST", field: "repoPath" });
    const created = await admin<Project>("POST /workspaces/{workspaceId}/projects", { params: { workspaceId: ws.id }, body });
    expect(created.status).toBe(201);
    project = created.body;
    const edited = await admin<Project>("PATCH /projects/{projectId}", { params: { projectId: project.id }, body: { testCommand: "npm test" } });
    expect(edited.body.testCommand).toBe("npm test");
    const list = await viewer<Project[]>("GET /workspaces/{workspaceId}/projects", { params: { workspaceId: ws.id } });
    expect(list.body.map((p) => p.id)).toEqual([project.id]);
    const one = await viewer<Project>("GET /projects/{projectId}", { params: { projectId: project.id } });
    expect(one.body.testCommand).toBe("npm test");
  });

  it("creates, edits, moves, lists, reads and deletes cards", async () => {
    const params = { boardId: board.id };
    const created = await member<Card>("POST /boards/{boardId}/cards", {
      params,
      body: { projectId: project.id, title: "Fix the login bug", labels: ["auth"] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ title: "Fix the login bug", column: "backlog", labels: ["auth"] });
    const cardId = created.body.id;
    const empty = await member<RestErrorBody>("POST /boards/{boardId}/cards", { params, body: { projectId: project.id, title: "   " } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.field).toBe("title");
    const edited = await member<Card>("PATCH /cards/{cardId}", { params: { cardId }, body: { description: "Steps: …" } });
    expect(edited.body.description).toBe("Steps: …");
    const moved = await member<Card>("POST /cards/{cardId}/move", { params: { cardId }, body: { column: "todo" } });
    expect(moved.body.column).toBe("todo");
    const list = await viewer<{ id: string }[]>("GET /boards/{boardId}/cards", { params });
    expect(list.body.map((c) => c.id)).toContain(cardId);
    const one = await viewer<Card>("GET /cards/{cardId}", { params: { cardId } });
    expect(one.body.column).toBe("todo");
    const viewerDelete = await viewer<RestErrorBody>("DELETE /cards/{cardId}", { params: { cardId } });
    expect(viewerDelete.status).toBe(403);
    const deleted = await member("DELETE /cards/{cardId}", { params: { cardId } });
    expect(deleted.status).toBe(200);
    expect((await viewer("GET /cards/{cardId}", { params: { cardId } })).status).toBe(404);
  });

  it("creates, edits, lists and reads workflows (admin); a bad DoD answers the field", async () => {
    const params = { workspaceId: ws.id };
    const body = { name: "Fix", promptTemplate: "Fix {{card.title}}", engine: "command", command: "true", dod: [{ key: "tests", title: "Tests pass" }] };
    const duplicate = await admin<RestErrorBody>("POST /workspaces/{workspaceId}/workflows", { params, body: { ...body, dod: [body.dod[0], body.dod[0]] } });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.error.field).toBe("dod.1.key");
    const created = await admin<Workflow>("POST /workspaces/{workspaceId}/workflows", { params, body });
    expect(created.status).toBe(201);
    expect(created.body.dod).toEqual([expect.objectContaining({ key: "tests", required: true })]);
    const edited = await admin<Workflow>("PATCH /workflows/{workflowId}", { params: { workflowId: created.body.id }, body: { isDefault: true } });
    expect(edited.body.isDefault).toBe(true);
    const list = await viewer<Workflow[]>("GET /workspaces/{workspaceId}/workflows", { params });
    expect(list.body[0]?.id).toBe(created.body.id);
    const one = await viewer<Workflow>("GET /workflows/{workflowId}", { params: { workflowId: created.body.id } });
    expect(one.body.engine).toBe("command");
  });

  it("agent profiles: admins write them, acp runs need one and keep a copy", async () => {
    type Profile = { id: string; name: string; command: string; args: string[]; env: Record<string, string>; permissions: string };
    const params = { workspaceId: ws.id };
    const body = { name: "echo-agent", command: "/usr/bin/env", args: ["my-agent", "--acp"], env: { AGENT_MODE: "fast" } };
    expect((await member<RestErrorBody>("POST /workspaces/{workspaceId}/agent-profiles", { params, body })).status).toBe(403);
    const badEnv = await admin<RestErrorBody>("POST /workspaces/{workspaceId}/agent-profiles", { params, body: { ...body, env: { "NOT-A-NAME": "x" } } });
    expect(badEnv.status).toBe(400);
    expect(badEnv.body.error.field).toMatch(/^env/);
    const created = await admin<Profile>("POST /workspaces/{workspaceId}/agent-profiles", { params, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...body, permissions: "allow" });
    const again = await admin<RestErrorBody>("POST /workspaces/{workspaceId}/agent-profiles", { params, body });
    expect(again.status).toBe(409);
    expect(again.body.error.reason).toBe("ALREADY_EXISTS");
    const list = await viewer<Profile[]>("GET /workspaces/{workspaceId}/agent-profiles", { params });
    expect(list.body.map((p) => p.name)).toEqual(["echo-agent"]);

    const card = await member<Card>("POST /boards/{boardId}/cards", { params: { boardId: board.id }, body: { projectId: project.id, title: "ACP" } });
    const none = await member<RestErrorBody>("POST /runs", { body: { cardId: card.body.id, engine: "acp" } });
    expect(none.status).toBe(400);
    expect(none.body.error.field).toBe("agentProfile");
    const unknown = await member<RestErrorBody>("POST /runs", { body: { cardId: card.body.id, engine: "acp", agentProfile: "nope" } });
    expect(unknown.body.error.field).toBe("agentProfile");
    const run = await member<{ id: string; engine: string; agent: Profile }>("POST /runs", {
      body: { cardId: card.body.id, engine: "acp", agentProfile: "echo-agent" },
    });
    expect(run.status).toBe(201);
    expect(run.body).toMatchObject({
      engine: "acp",
      agent: { name: "echo-agent", command: "/usr/bin/env", args: ["my-agent", "--acp"], env: { AGENT_MODE: "fast" }, permissions: "allow" },
    });

    const edited = await admin<Profile>("PATCH /agent-profiles/{profileId}", {
      params: { profileId: created.body.id },
      body: { permissions: "deny", args: [] },
    });
    expect(edited.body).toMatchObject({ permissions: "deny", args: [] });
    expect((await viewer<Profile>("GET /agent-profiles/{profileId}", { params: { profileId: created.body.id } })).body.permissions).toBe("deny");
    const kept = await viewer<{ agent: Profile }>("GET /runs/{runId}", { params: { runId: run.body.id } });
    expect(kept.body.agent).toMatchObject({ permissions: "allow", args: ["my-agent", "--acp"] });
    expect((await admin("DELETE /agent-profiles/{profileId}", { params: { profileId: created.body.id } })).status).toBe(200);
    expect((await viewer("GET /agent-profiles/{profileId}", { params: { profileId: created.body.id } })).status).toBe(404);
  });

  it("hides other workspaces' objects as 404", async () => {
    const other = await admin<Workspace>("POST /workspaces", { body: { name: "Other", slug: "other" } });
    const outsider = restClient(http.url, (await api.withToken("admin", other.body.id)).token);
    const res = await outsider<RestErrorBody>("GET /boards/{boardId}", { params: { boardId: board.id } });
    expect(res.status).toBe(404);
  });
});
