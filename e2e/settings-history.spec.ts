import { expect, test, type Page } from "@playwright/test";
import { adminClient, makeRepo, seedWorkspace, unique } from "./support/api";
import { cardIn, column, shot, signIn } from "./support/ui";

/** Answers the next window.confirm / alert with `accept`, checking what it asked. */
function answerNextDialog(page: Page, accept: boolean, asked: RegExp) {
  page.once("dialog", async (d) => {
    expect(d.message()).toMatch(asked);
    await (accept ? d.accept() : d.dismiss());
  });
}

/**
 * History in the board's UI: a card with a run archived (its run cancelled), found again by
 * the board's search with archived cards included, and restored; the board renamed,
 * archived and restored; Escape never throws away unsaved edits without asking.
 */
test("archive, find and restore a card; rename, archive and restore a board; Escape asks first", async ({ page }) => {
  const client = adminClient();
  const { workspace, board, project } = await seedWorkspace(client);
  const card = await client.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Archive me later", description: "the original words" });
  // A queued run (no runner in this suite): archiving must cancel it.
  const run = await client.run.create.mutate({ cardId: card.id, engine: "command", command: "true" });
  await client.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Stays on the board" });

  await signIn(page);
  await page.goto(`/boards/${board.id}`);
  await expect(page.getByTestId("live-state")).toHaveAttribute("data-state", "live");

  // Unsaved edits: Escape asks, every time, and keeps them until the person agrees.
  await cardIn(column(page, "backlog"), "Archive me later").click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Description").fill("words I have not saved");
  answerNextDialog(page, false, /Discard your unsaved changes/);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Description")).toHaveValue("words I have not saved");
  answerNextDialog(page, false, /Discard your unsaved changes/);
  await page.keyboard.press("Escape");
  await expect(dialog.getByLabel("Description")).toHaveValue("words I have not saved");
  answerNextDialog(page, false, /Discard your unsaved changes/);
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog).toBeVisible();
  answerNextDialog(page, true, /Discard your unsaved changes/);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  // Discarded: the card is as it was. Without changes, Escape closes without asking.
  await cardIn(column(page, "backlog"), "Archive me later").click();
  await expect(dialog.getByLabel("Description")).toHaveValue("the original words");
  const unexpected: string[] = [];
  const record = (d: { message(): string; dismiss(): Promise<void> }) => {
    unexpected.push(d.message());
    void d.dismiss();
  };
  page.on("dialog", record);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  page.off("dialog", record);
  expect(unexpected).toEqual([]);

  // Archive the card: off the board, its queued run cancelled.
  await cardIn(column(page, "backlog"), "Archive me later").click();
  answerNextDialog(page, true, /Archive “Archive me later”/);
  await dialog.getByRole("button", { name: "Archive card" }).click();
  await expect(cardIn(page, "Archive me later")).toHaveCount(0);
  expect((await client.run.byId.query({ runId: run.id })).status).toBe("cancelled");

  // The search leaves it out, finds it with archived cards, and lists archived ones alone.
  const results = page.getByTestId("search-results");
  await page.getByLabel("Search cards").fill("archive me");
  await expect(results).toContainText("No card matches.");
  await page.getByLabel("Archived cards").selectOption("include");
  await expect(results.getByTestId("search-hit")).toHaveCount(1);
  await expect(results.getByTestId("search-hit")).toContainText("archived");
  await page.getByLabel("Search cards").fill("");
  await page.getByLabel("Archived cards").selectOption("only");
  await expect(results.getByTestId("search-hit")).toHaveCount(1);
  await expect(results.getByTestId("search-hit")).toContainText("Archive me later");
  await shot(page, "board-search-archived");
  // Restore it from the hit: read-only while archived, then back on the board.
  await results.getByTestId("search-hit").click();
  await expect(dialog.getByTestId("card-archived")).toBeVisible();
  await expect(dialog.getByLabel("Title")).toHaveAttribute("readonly", "");
  await expect(dialog.getByRole("button", { name: "Start run" })).toHaveCount(0);
  await dialog.getByRole("button", { name: "Restore card" }).click();
  await expect(dialog).toBeHidden();
  await expect(cardIn(column(page, "backlog"), "Archive me later")).toBeVisible();
  expect((await client.card.byId.query({ cardId: card.id })).archivedAt).toBeNull();
  await page.getByLabel("Archived cards").selectOption("exclude");

  // Rename the board in place: Escape asks before the new name goes, Enter saves.
  await page.getByRole("button", { name: "Rename" }).click();
  await page.getByLabel("Board name").fill("Roadmap");
  answerNextDialog(page, false, /Discard the new name/);
  await page.getByLabel("Board name").press("Escape");
  await expect(page.getByLabel("Board name")).toHaveValue("Roadmap");
  await page.getByLabel("Board name").press("Enter");
  await expect(page.getByRole("heading", { name: "Roadmap", level: 1 })).toBeVisible();
  expect((await client.board.byId.query({ boardId: board.id })).name).toBe("Roadmap");

  // Archive the board: gone from the list, under "Archived boards", read-only, restorable.
  answerNextDialog(page, true, /Archive the board “Roadmap”/);
  await page.getByRole("button", { name: "Archive", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Boards", level: 1 })).toBeVisible();
  const section = page.getByRole("region", { name: workspace.name });
  await expect(section.getByRole("link", { name: /Roadmap/ })).toHaveCount(0);
  await section.getByText("Archived boards", { exact: true }).click();
  await section.getByRole("list", { name: "Archived boards" }).getByRole("link", { name: "Roadmap" }).click();
  await expect(page.getByTestId("board-archived")).toBeVisible();
  await expect(page.getByRole("button", { name: "+ Add card" })).toHaveCount(0);
  await page.getByRole("button", { name: "Restore board" }).click();
  await expect(page.getByTestId("board-archived")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "+ Add card" }).first()).toBeVisible();
  expect((await client.board.byId.query({ boardId: board.id })).archivedAt).toBeNull();
});

/**
 * The settings a team sets up in the browser: the workspace's name and budget; a workflow
 * with its model, limits, a check, and the prompt previewed live against a card, archived
 * and restored; a project's hooks, a refused remote, and its archive and restore.
 */
test("settings: workspace, a workflow with preview, model and limits, project hooks, remote check, archive", async ({ page }) => {
  const client = adminClient();
  const { workspace, board, project } = await seedWorkspace(client);
  await client.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Preview me" });

  await signIn(page);
  await page.goto(`/settings?workspace=${workspace.id}`);

  // The workspace.
  const ws = page.getByRole("region", { name: "Workspace", exact: true });
  await ws.getByLabel("Workspace name").fill(`${workspace.name} (renamed)`);
  await ws.getByLabel("Budget (USD)").fill("25");
  await ws.getByRole("button", { name: "Save workspace" }).click();
  await expect.poll(async () => (await client.workspace.byId.query({ workspaceId: workspace.id })).budgetUsd).toBe(25);
  expect((await client.workspace.byId.query({ workspaceId: workspace.id })).name).toBe(`${workspace.name} (renamed)`);

  // A new workflow: model, limits, a check that validates itself, and the live preview.
  await page.getByRole("button", { name: "New workflow" }).click();
  const form = page.getByRole("form", { name: "New workflow" });
  await form.getByLabel("Workflow name").fill("Careful");
  await form.getByLabel("Engine").selectOption("anthropic");
  await form.getByLabel("Model").fill("claude-haiku-4-5");
  await form.getByLabel("Max turns").fill("12");
  await form.getByLabel("Timeout (minutes)").fill("5");
  await form.getByLabel("Budget per run (USD)").fill("1.5");
  await form.getByLabel("Prompt template").fill("Do {{card.title}} in {{project.name}} on {{project.baseBranch}}.");
  await expect(form.getByTestId("template-preview")).toHaveText("Do Preview me in webapp on main.");
  await form.getByLabel("Key").fill("lint");
  await form.getByLabel("Title").fill("Lint passes");
  await form.getByLabel("Check command").fill("true");
  await form.getByLabel("validates itself").check();
  await shot(page, "settings-workflow", { fullPage: true });
  await form.getByRole("button", { name: "Save workflow" }).click();
  await expect(form).toBeHidden();
  const saved = (await client.workflow.list.query({ workspaceId: workspace.id })).find((w) => w.name === "Careful");
  expect(saved).toMatchObject({
    engine: "anthropic",
    model: "claude-haiku-4-5",
    maxTurns: 12,
    timeoutMs: 300_000,
    budgetUsd: 1.5,
    promptTemplate: "Do {{card.title}} in {{project.name}} on {{project.baseBranch}}.",
    dod: [{ key: "lint", title: "Lint passes", required: true, check: "true", autoValidate: true }],
  });

  // Archived: off the list (and the start-run form), restorable; the default has no Archive.
  await expect(page.getByRole("button", { name: "Archive Implement card" })).toHaveCount(0);
  answerNextDialog(page, true, /Archive the workflow “Careful”/);
  await page.getByRole("button", { name: "Archive Careful" }).click();
  await expect(page.getByRole("list", { name: "Archived workflows" })).toContainText("Careful");
  await expect.poll(async () => (await client.workflow.list.query({ workspaceId: workspace.id })).map((w) => w.name)).toEqual(["Implement card"]);
  await page.getByRole("button", { name: "Restore Careful" }).click();
  await expect(page.getByRole("button", { name: "Edit Careful" })).toBeVisible();
  await expect(page.getByRole("list", { name: "Archived workflows" })).toHaveCount(0);

  // The project: hooks, one command a line.
  const settings = page.getByRole("region", { name: "Project webapp" });
  await settings.getByLabel(/^Pre hooks/).fill("echo pre-one\necho pre-two");
  await settings.getByLabel(/^Error hooks/).fill("echo it failed");
  await settings.getByRole("button", { name: "Save project" }).click();
  await expect
    .poll(async () => (await client.project.byId.query({ projectId: project.id })).hooks)
    .toEqual({ pre: ["echo pre-one", "echo pre-two"], post: [], error: ["echo it failed"] });
  // A remote nothing answers on is refused on its field, and nothing is saved.
  await settings.getByLabel("Remote URL").fill("http://127.0.0.1:9/team/webapp.git");
  await settings.getByRole("button", { name: "Save project" }).click();
  await expect(settings.getByRole("alert")).toContainText("did not answer as a git repository");
  expect((await client.project.byId.query({ projectId: project.id })).remoteUrl).toBeNull();
  await settings.getByLabel("Remote URL").fill("");

  // Archive and restore the project.
  answerNextDialog(page, true, /Archive the project “webapp”/);
  await settings.getByRole("button", { name: "Archive project" }).click();
  const archived = page.getByRole("region", { name: "Archived projects" });
  await expect(archived.getByRole("listitem", { name: "Archived project webapp" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Project webapp" })).toHaveCount(0);
  await archived.getByRole("button", { name: "Restore" }).click();
  await expect(page.getByRole("region", { name: "Project webapp" })).toBeVisible();
  expect((await client.project.byId.query({ projectId: project.id })).archivedAt).toBeNull();
});

/** The workspace's runs page: filtered by status and board on the server, paged. */
test("the runs page lists a workspace's runs, filtered by status and board, a page at a time", async ({ page }) => {
  const client = adminClient();
  const { workspace, board, project } = await seedWorkspace(client);
  const other = await client.board.create.mutate({ workspaceId: workspace.id, name: "Ops" });
  const card = await client.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Many runs" });
  const opsCard = await client.card.create.mutate({ boardId: other.id, projectId: project.id, title: "Ops card" });
  // 27 queued runs on the first board (more than a page of 25), one cancelled on Ops.
  for (let i = 0; i < 27; i++) await client.run.create.mutate({ cardId: card.id, engine: "command", command: "true" });
  const cancelled = await client.run.create.mutate({ cardId: opsCard.id, engine: "command", command: "true" });
  await client.run.cancel.mutate({ runId: cancelled.id });

  await signIn(page);
  await page.goto(`/runs?workspace=${workspace.id}`);
  await expect(page.getByRole("link", { name: "Runs", exact: true })).toHaveAttribute("aria-current", "page");
  const rows = page.getByTestId("run-row");
  await expect(rows).toHaveCount(25);
  await expect(rows.first()).toContainText("Ops card");
  await expect(rows.first()).toContainText("cancelled");
  await page.getByRole("button", { name: "Older runs" }).click();
  await expect(page.getByTestId("runs-page")).toHaveText("page 2");
  await expect(rows).toHaveCount(3);
  await expect(page.getByRole("button", { name: "Older runs" })).toBeDisabled();
  await page.getByRole("button", { name: "Newer runs" }).click();
  await expect(rows).toHaveCount(25);

  const filters = page.getByRole("search", { name: "Filter runs" });
  await filters.getByLabel("Status").selectOption("cancelled");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-run-id", cancelled.id);
  await filters.getByLabel("Status").selectOption("queued");
  await filters.getByLabel("Board").selectOption({ label: "Ops" });
  await expect(page.getByText("No runs match")).toBeVisible();
  await filters.getByLabel("Board").selectOption({ label: "Product" });
  await expect(rows).toHaveCount(25);
  await expect(page.getByTestId("runs-page")).toHaveText("page 1");
  await shot(page, "workspace-runs");
  await rows.first().getByRole("link", { name: "Many runs" }).click();
  await expect(page).toHaveURL(/\/runs\/[a-z0-9]+$/);
});

/** A phone's width: the header and the pages fit; the main navigation scrolls inside the header. */
test("at 390 px no page is wider than the screen", async ({ page }) => {
  const { workspace, board } = await seedWorkspace(adminClient());
  await signIn(page);
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of [
    "/",
    `/boards/${board.id}`,
    `/settings?workspace=${workspace.id}`,
    `/runs?workspace=${workspace.id}`,
    `/members?workspace=${workspace.id}`,
  ]) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1 }).first()).toBeVisible();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect({ path, width }).toEqual({ path, width: 390 });
  }
  // Every destination stays reachable.
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API" })).toBeAttached();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
});

/**
 * The board's filters run on the server: by label, and by person (who asked for one of the
 * card's runs); the runs page picks the person from the workspace's members. A new card is
 * offered the board's last-used project, not the first one made.
 */
test("filter the board by label and by person; the runs page picks a member; a new card gets the last-used project", async ({ page, browser }) => {
  const client = adminClient();
  const { workspace, board, project } = await seedWorkspace(client);
  const second = await client.project.create.mutate({ workspaceId: workspace.id, name: "mobile", repoPath: makeRepo(), baseBranch: "main" });
  await client.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Login form", labels: ["ui"] });
  await client.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Dark mode", labels: ["ui"] });
  const parser = await client.card.create.mutate({ boardId: board.id, projectId: second.id, title: "Parser crash", labels: ["bug"] });

  // A member joins by link and asks for the parser's run from their own browser session.
  const invitation = await client.invitation.create.mutate({ workspaceId: workspace.id, role: "member" });
  const email = `${unique("pat")}@team.test`;
  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  await member.goto(invitation.path);
  await member.getByLabel("Name").fill("Pat Person");
  await member.getByLabel("Email").fill(email);
  await member.getByLabel("Password", { exact: true }).fill("a long enough passphrase");
  await member.getByLabel("Password again").fill("a long enough passphrase");
  await member.getByRole("button", { name: "Create account and join" }).click();
  await expect(member.getByRole("heading", { name: "Boards", level: 1 })).toBeVisible();
  const status = await member.evaluate(async (cardId) => {
    const res = await fetch("/api/trpc/run.create", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ json: { cardId, engine: "command", command: "true" } }),
    });
    return res.status;
  }, parser.id);
  expect(status).toBe(200);
  await memberContext.close();

  await signIn(page);
  await page.goto(`/boards/${board.id}`);
  await expect(page.getByTestId("live-state")).toHaveAttribute("data-state", "live");
  const results = page.getByTestId("search-results");
  const hits = results.getByTestId("search-hit");
  await page.getByLabel("Filter by label").fill("ui");
  await expect(hits).toHaveCount(2);
  await expect(results).toContainText("Login form");
  await expect(results).toContainText("Dark mode");
  await page.getByLabel("Filter by label").fill("no spaces");
  await expect(results).toContainText("no spaces");
  await page.getByLabel("Filter by label").fill("");
  await page.getByLabel("Filter by person").selectOption({ label: "Pat Person" });
  await expect(hits).toHaveCount(1);
  await expect(hits).toContainText("Parser crash");
  await page.getByLabel("Filter by label").fill("ui");
  await expect(results).toContainText("No card matches.");
  await page.getByLabel("Filter by label").fill("");
  await page.getByLabel("Filter by person").selectOption({ label: "Anyone" });
  await expect(results).toHaveCount(0);

  // The newest card is in "mobile": the form offers it, though "webapp" was made first.
  await column(page, "todo").getByRole("button", { name: "+ Add card" }).click();
  await expect(column(page, "todo").getByLabel("Project")).toHaveValue(second.id);

  // The runs page: "Asked by" is a choice of the workspace's members.
  await page.goto(`/runs?workspace=${workspace.id}`);
  const filters = page.getByRole("search", { name: "Filter runs" });
  await filters.getByLabel("Asked by").selectOption({ label: `Pat Person (${email})` });
  await expect(page.getByTestId("run-row")).toHaveCount(1);
  await expect(page.getByTestId("run-row")).toContainText("Parser crash");
});

/**
 * What the walk-through found on a card: a pasted title over the limit is said with its
 * length (not cut to 300), a refused label is named with the rule before anything is sent
 * (nothing typed is lost), and the command engine shows no prompt, since none is sent.
 */
test("a too-long title and a refused label are said before a save; the command engine shows no prompt", async ({ page }) => {
  const client = adminClient();
  const { board, project } = await seedWorkspace(client);
  await client.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Label me", column: "todo" });
  await signIn(page);
  await page.goto(`/boards/${board.id}`);
  await expect(page.getByTestId("live-state")).toHaveAttribute("data-state", "live");

  const todo = column(page, "todo");
  await todo.getByRole("button", { name: "+ Add card" }).click();
  const newTitle = todo.getByLabel("New card title (todo)");
  await newTitle.fill("x".repeat(10_000));
  await expect(newTitle).toHaveValue("x".repeat(10_000));
  await expect(todo.getByTestId("title-problem")).toHaveText(
    "A title is at most 300 characters; this one has 10,000. Shorten it and put the rest in the description.",
  );
  await expect(todo.getByRole("button", { name: "Add card", exact: true })).toBeDisabled();
  await newTitle.fill("x".repeat(300));
  await expect(todo.getByTestId("title-problem")).toHaveCount(0);
  await newTitle.press("Escape");

  await cardIn(todo, "Label me").click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Labels").fill("ui, needs review");
  await expect(dialog.getByTestId("labels-problem")).toHaveText("“needs review”: a label is 1–64 letters, digits and . _ : - (no spaces)");
  await expect(dialog.getByRole("button", { name: "Save" })).toBeDisabled();
  await dialog.getByLabel("Labels").fill("ui, needs-review");
  await expect(dialog.getByTestId("labels-problem")).toHaveCount(0);
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect
    .poll(async () => (await client.card.list.query({ boardId: board.id })).find((c) => c.title === "Label me")?.labels)
    .toEqual(["ui", "needs-review"]);

  await dialog.getByRole("button", { name: "Start run" }).click();
  await expect(dialog.getByTestId("prompt-preview")).toContainText("Label me");
  await dialog.getByLabel("Engine").selectOption("command");
  await expect(dialog.getByTestId("no-prompt")).toContainText("no prompt is sent");
  await expect(dialog.getByText("Prompt that will be sent")).toHaveCount(0);
  await expect(dialog.getByTestId("prompt-preview")).toHaveCount(0);
});
