import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";
import { failure } from "../testing/failures.js";

/** What the workflow editor relies on: archive and restore, and the live preview of a template. */
describe.each(testProviders)("workflow settings on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let other: Awaited<ReturnType<typeof seedBoard>>;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    other = await seedBoard(api, "other");
  });
  afterAll(() => api.close());

  it("an archived workflow leaves the list, takes no new runs or edits, and comes back restored", async () => {
    const wf = await api.admin.workflow.create({
      workspaceId: seed.workspace.id,
      name: "Scripted",
      promptTemplate: "do {{card.title}}",
      engine: "command",
      command: "true",
    });
    const run = await api.admin.run.create({ cardId: seed.card.id, workflowId: wf.id });
    expect((await api.admin.workflow.archive({ workflowId: wf.id })).archivedAt).toBeInstanceOf(Date);
    expect((await api.admin.workflow.list({ workspaceId: seed.workspace.id })).map((w) => w.id)).not.toContain(wf.id);
    expect((await api.admin.workflow.list({ workspaceId: seed.workspace.id, archived: true })).map((w) => w.id)).toEqual([wf.id]);
    expect(await failure(api.admin.run.create({ cardId: seed.card.id, workflowId: wf.id }))).toMatchObject({ code: "CONFLICT", reason: "ARCHIVED" });
    expect(await failure(api.admin.workflow.update({ workflowId: wf.id, name: "Renamed" }))).toMatchObject({ code: "CONFLICT", reason: "ARCHIVED" });
    // The run it made keeps its copy.
    expect((await api.admin.run.byId({ runId: run.id })).prompt).toBe("do Fix the bug");
    await api.admin.workflow.restore({ workflowId: wf.id });
    expect((await api.admin.workflow.list({ workspaceId: seed.workspace.id })).map((w) => w.id)).toContain(wf.id);
    expect((await api.admin.workflow.update({ workflowId: wf.id, name: "Renamed" })).name).toBe("Renamed");
  });

  it("the default workflow is not archived; members do not archive", async () => {
    const [def] = await api.admin.workflow.list({ workspaceId: seed.workspace.id });
    expect(def!.isDefault).toBe(true);
    expect(await failure(api.admin.workflow.archive({ workflowId: def!.id }))).toMatchObject({ code: "BAD_REQUEST", field: "isDefault" });
    const member = await api.as("member", seed.workspace.id);
    expect((await failure(member.workflow.archive({ workflowId: def!.id }))).code).toBe("FORBIDDEN");
    const outsider = await api.as("admin", other.workspace.id);
    expect((await failure(outsider.workflow.restore({ workflowId: def!.id }))).code).toBe("NOT_FOUND");
  });

  it("previews a template against a card of the workspace, as run.create would render it", async () => {
    await api.admin.project.update({ projectId: seed.project.id, testCommand: "npm test" });
    const preview = await api.admin.workflow.previewTemplate({
      workspaceId: seed.workspace.id,
      cardId: seed.card.id,
      promptTemplate: "{{card.title}} in {{project.name}} on {{project.baseBranch}}; then {{project.testCommand}}. {{unknown.thing}}",
    });
    expect(preview).toEqual({ prompt: "Fix the bug in app on main; then npm test. {{unknown.thing}}", card: { id: seed.card.id, title: "Fix the bug" } });
    // What the preview shows is what a run with that template gets.
    const wf = await api.admin.workflow.create({
      workspaceId: seed.workspace.id,
      name: "Same",
      promptTemplate: "{{card.title}} in {{project.name}} on {{project.baseBranch}}; then {{project.testCommand}}. {{unknown.thing}}",
    });
    expect((await api.admin.run.previewPrompt({ cardId: seed.card.id, workflowId: wf.id })).prompt).toBe(preview.prompt);
    // A card of another workspace is not previewed, even by its own admin; members do not preview.
    expect((await failure(api.admin.workflow.previewTemplate({ workspaceId: seed.workspace.id, cardId: other.card.id, promptTemplate: "x" }))).code).toBe(
      "NOT_FOUND",
    );
    const outsider = await api.as("admin", other.workspace.id);
    expect((await failure(outsider.workflow.previewTemplate({ workspaceId: seed.workspace.id, cardId: other.card.id, promptTemplate: "x" }))).code).toBe(
      "NOT_FOUND",
    );
    const member = await api.as("member", seed.workspace.id);
    expect((await failure(member.workflow.previewTemplate({ workspaceId: seed.workspace.id, cardId: seed.card.id, promptTemplate: "x" }))).code).toBe(
      "FORBIDDEN",
    );
  });
});
