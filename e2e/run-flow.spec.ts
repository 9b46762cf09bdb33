import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { startMessagesServer, type MessagesServer } from "@agentboard/testkit/messages-server";
import { adminClient, seedWorkspace, unique } from "./support/api";
import { E2E } from "./support/env";
import { startRunner, startWebServer, type Proc } from "./support/processes";
import { cardIn, column, shot, signIn } from "./support/ui";

/**
 * The whole flow with a real runner process: create a card, start a run, watch the event log
 * fill live, see the diff, the run succeed and the card move to In review — with the
 * `command` engine, with the `anthropic` engine against the local Messages API server, and
 * across a server restart in the middle of a run.
 */

async function createCardInUi(page: Page, title: string) {
  await column(page, "todo").getByRole("button", { name: "+ Add card" }).click();
  await page.getByLabel("New card title (todo)").fill(title);
  await page.keyboard.press("Enter");
  await expect(cardIn(column(page, "todo"), title)).toBeVisible();
  await column(page, "todo").getByRole("button", { name: "Close", exact: true }).click();
}

/** Opens the card, starts a run with the given engine, and follows the toast to the run page. */
async function startRunInUi(page: Page, title: string, engine: "command" | "anthropic", opts: { command?: string; model?: string }) {
  await cardIn(page, title).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Start run" }).click();
  await dialog.getByLabel("Engine").selectOption(engine);
  if (opts.command) await dialog.getByLabel("Command", { exact: true }).fill(opts.command);
  if (opts.model) await dialog.getByLabel("Model", { exact: true }).fill(opts.model);
  // The anthropic engine shows the prompt it will send; the command engine sends none and says so.
  if (engine === "command") await expect(dialog.getByTestId("no-prompt")).toBeVisible();
  else await expect(dialog.getByTestId("prompt-preview")).toContainText(title);
  await dialog.getByRole("button", { name: "Start run" }).click();
  await dialog.getByTestId("open-run").click();
  await expect(page).toHaveURL(/\/runs\//);
}

async function expectCleanLog(page: Page, runId: string, url = E2E.baseURL) {
  const log = page.getByTestId("event-log");
  const all = await adminClient(url).run.events.query({ runId, limit: 1000 });
  await expect(log).toHaveAttribute("data-count", String(all.length));
  await expect(log).toHaveAttribute("data-last-seq", String(all.at(-1)!.seq));
  await expect(log).toHaveAttribute("data-duplicates", "0");
  await expect(log).toHaveAttribute("data-gaps", "0");
}

test.describe("a run from the board to In review", () => {
  let runner: Proc | undefined;
  let messages: MessagesServer | undefined;

  test.afterEach(async () => {
    await runner?.stop();
    await messages?.close();
    runner = undefined;
    messages = undefined;
  });

  test("command engine: live output, diff, success, card in review — seen by a second browser", async ({ page, browser }) => {
    const { workspace, board } = await seedWorkspace();
    runner = startRunner({ server: E2E.baseURL, token: E2E.adminToken, workspaceId: workspace.id });
    // Each test has a board of its own, so plain titles are unique enough (and read well in the screenshots).
    const title = "Write the greeting file";
    await signIn(page);
    await page.goto(`/boards/${board.id}`);
    await createCardInUi(page, title);

    const watcher = await (await browser.newContext()).newPage();
    await signIn(watcher);
    await watcher.goto(`/boards/${board.id}`);
    await expect(cardIn(column(watcher, "todo"), title)).toBeVisible();

    // The run goes on past step 3 only when the test says so (a file in its checkout), so
    // "live" is proven however slow the machine: the first lines are on screen while it runs.
    const command =
      'for i in 1 2 3; do echo "step $i"; sleep 0.2; done; until [ -f .go ]; do sleep 0.1; done; rm .go; ' +
      "for i in 4 5 6; do echo \"step $i\"; sleep 0.2; done; printf 'hello, board\\n' > greeting.txt; echo finished";
    await startRunInUi(page, title, "command", { command });
    const log = page.getByTestId("event-log");
    await expect(log).toContainText("step 3");
    await expect(page.getByTestId("run-status")).toContainText("running");
    await expect(cardIn(column(watcher, "in_progress"), title).getByTestId("card-run")).toContainText("running");
    await expect(log).not.toContainText("step 4");
    const live = await adminClient().run.byId.query({ runId: page.url().split("/runs/")[1]! });
    writeFileSync(join(live.worktreePath!, ".go"), "");
    await expect(log).toContainText("step 6");
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
    await expect(page.getByTestId("diff-files")).toContainText("greeting.txt");
    await expect(page.getByTestId("diff-viewer")).toContainText("hello, board");
    await expect(page.getByTestId("status-history")).toContainText("succeeded");
    await expect(page.getByTestId("sandbox-badge")).toHaveText("sandboxed");
    const runId = page.url().split("/runs/")[1]!;
    await expectCleanLog(page, runId);
    await expect(cardIn(column(watcher, "in_review"), title).getByTestId("card-run")).toContainText("succeeded");
    await shot(page, "run-detail-command", { fullPage: true });

    // The runner and the run's worktree are on their pages.
    await page.goto(`/runners?workspace=${workspace.id}`);
    const runnerRow = page.getByTestId("runners-table").getByRole("row").filter({ hasText: "e2e-runner" });
    await expect(runnerRow).toContainText("online");
    await expect(runnerRow).toContainText("bubblewrap");
    await page.goto(`/worktrees?workspace=${workspace.id}`);
    const worktree = page.getByTestId("worktrees-table").getByRole("row").filter({ hasText: title });
    await expect(worktree).toContainText("agentboard/");
    await expect(worktree).toContainText("succeeded");
  });

  test("anthropic engine against the local Messages API: messages, tool calls, diff with highlighting", async ({ page }) => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's TypeScript source, written by the agent.
    const greetingSource = "export function greet(name: string): string {\n  return `Hello, ${name}!`;\n}\n";
    messages = await startMessagesServer({
      script: [
        {
          delayMs: 400,
          content: [
            { type: "text", text: "I'll add a typed greeting helper and check it." },
            { type: "tool_use", name: "write_file", input: { path: "src/greeting.ts", content: greetingSource } },
          ],
          usage: { input_tokens: 1200, output_tokens: 90 },
        },
        {
          delayMs: 400,
          content: [{ type: "tool_use", name: "run_command", input: { command: "cat src/greeting.ts" } }],
          usage: { input_tokens: 1400, output_tokens: 40 },
        },
        { delayMs: 400, text: "Added src/greeting.ts with a `greet` function.", usage: { input_tokens: 1500, output_tokens: 30 } },
      ],
    });
    const { workspace, board, project } = await seedWorkspace();
    runner = startRunner({ server: E2E.baseURL, token: E2E.adminToken, workspaceId: workspace.id, anthropicBaseUrl: messages.url });
    const title = "Add a greeting helper";
    await signIn(page);
    await page.goto(`/boards/${board.id}`);
    await createCardInUi(page, title);
    await startRunInUi(page, title, "anthropic", { model: "claude-sonnet-4-5" });

    const log = page.getByTestId("event-log");
    await expect(log).toContainText("I'll add a typed greeting helper");
    const toolCall = log.getByTestId("tool-call").filter({ hasText: "write_file" });
    await expect(toolCall).toContainText("src/greeting.ts");
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
    await toolCall.locator("summary").click();
    await expect(toolCall).toContainText("Output");
    await expect(log.getByTestId("tool-call").filter({ hasText: "run_command" })).toContainText("done");
    await expect(log).toContainText("Added src/greeting.ts");

    const diff = page.getByTestId("diff-viewer");
    await expect(page.getByTestId("diff-files")).toContainText("src/greeting.ts");
    // Highlighted: the TypeScript keyword is a token of its own.
    await expect(diff.locator(".token.keyword").first()).toBeVisible();
    await expect(page.locator('[data-stat="Tool calls"]')).toHaveText("2");
    await expect(page.locator('[data-stat="Tokens"]')).not.toHaveText("0 in · 0 out");
    const runId = page.url().split("/runs/")[1]!;
    await expectCleanLog(page, runId);
    expect(messages.requests.length).toBe(3);
    await shot(page, "run-detail", { fullPage: true });

    // A few more cards, so the board in the README looks like a board in use.
    const api = adminClient();
    const more: [string, "backlog" | "todo" | "in_progress" | "done", string[]][] = [
      ["Rate-limit the login endpoint", "backlog", ["security"]],
      ["Migrate settings page to the new form kit", "backlog", ["ui"]],
      ["Dark mode for the billing emails", "todo", ["ui", "email"]],
      ["Flaky test: checkout times out on CI", "todo", ["ci"]],
      ["Cache the pricing table", "in_progress", ["perf"]],
      ["Upgrade to Node 22", "done", ["infra"]],
    ];
    for (const [t, col, labels] of more) await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: t, column: col, labels });
    const queued = (await api.card.list.query({ boardId: board.id })).find((c) => c.title === "Cache the pricing table")!;
    await api.run.create.mutate({ cardId: queued.id, engine: "command", command: "true", labels: ["gpu"] });

    await page.goto(`/boards/${board.id}`);
    await expect(cardIn(column(page, "in_review"), title).getByTestId("card-run")).toContainText("succeeded");
    await shot(page, "board");

    // Dark mode follows the system setting until a theme is picked in the header.
    await page.emulateMedia({ colorScheme: "dark" });
    await expect(page.locator("html")).toHaveClass(/dark/);
    await shot(page, "board-dark");
  });

  test("cancel from the run page stops the agent and keeps its output; the runners page lists the run while it runs", async ({ page }) => {
    const { workspace, board, project } = await seedWorkspace();
    runner = startRunner({ server: E2E.baseURL, token: E2E.adminToken, workspaceId: workspace.id, name: "e2e-cancel-runner", labels: ["linux", "e2e"] });
    const api = adminClient();
    const title = "A job to cancel";
    const card = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title, column: "todo" });
    const run = await api.run.create.mutate({ cardId: card.id, engine: "command", command: "echo started; sleep 120; echo never" });
    await signIn(page);
    await page.goto(`/runs/${run.id}`);
    await expect(page.getByTestId("event-log")).toContainText("started");
    await expect(page.getByTestId("run-status")).toContainText("running");

    await page.goto(`/runners?workspace=${workspace.id}`);
    const row = page.getByTestId("runners-table").getByRole("row").filter({ hasText: "e2e-cancel-runner" });
    await expect(row).toContainText("online");
    await expect(row).toContainText("linux");
    await expect(row).toContainText("e2e");
    await expect(row).toContainText("1 / 2");
    await expect(row.getByRole("link", { name: title })).toHaveAttribute("href", `/runs/${run.id}`);

    await row.getByRole("link", { name: title }).click();
    await expect(page).toHaveURL(new RegExp(`/runs/${run.id}$`));
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Cancel run" }).click();
    // The runner hears the cancel on its open stream and stops the agent's process group:
    // well before the command's two minutes are up.
    await expect(page.getByTestId("run-status")).toContainText("cancelled", { timeout: 20_000 });
    await expect(page.getByTestId("status-history")).toContainText("cancelled");
    const log = page.getByTestId("event-log");
    await expect(log).toContainText("started");
    await expect(log).not.toContainText("never");
    await expect(page.getByRole("button", { name: "Cancel run" })).toHaveCount(0);
    await expectCleanLog(page, run.id);
    const after = await api.run.byId.query({ runId: run.id });
    expect(after.status).toBe("cancelled");
  });

  test("the server restarts mid-run: the page resumes with no event lost or doubled", async ({ page }) => {
    test.setTimeout(150_000);
    const dataDir = mkdtempSync(join(tmpdir(), "agentboard-e2e-restart-"));
    const start = () => startWebServer({ port: E2E.restartPort, dataDir, adminToken: E2E.adminToken });
    let server = await start();
    try {
      const api = adminClient(server.url);
      const { workspace, board, project } = await seedWorkspace(api);
      runner = startRunner({ server: server.url, token: E2E.adminToken, workspaceId: workspace.id });
      const card = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: unique("Long job"), column: "todo" });
      const run = await api.run.create.mutate({
        cardId: card.id,
        engine: "command",
        command: 'for i in $(seq 1 40); do echo "line $i"; sleep 0.25; done; echo ok > done.txt',
      });
      await signIn(page, E2E.adminToken, server.url);
      await page.goto(`${server.url}/runs/${run.id}`);
      const log = page.getByTestId("event-log");
      await expect(log).toContainText("line 5");

      await server.stop("SIGKILL");
      await expect(page.getByTestId("live-state")).not.toHaveAttribute("data-state", "live");
      server = await start();

      await expect(page.getByTestId("live-state")).toHaveAttribute("data-state", "live", { timeout: 30_000 });
      await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 90_000 });
      await expect(log).toContainText("line 40");
      await expectCleanLog(page, run.id, server.url);
    } finally {
      await runner?.stop();
      runner = undefined;
      await server.stop();
    }
  });
});
