import { expect, test } from "@playwright/test";
import { createAgentboardClient } from "@agentboard/client";
import { startMessagesServer, type MessagesServer } from "@agentboard/testkit/messages-server";
import { adminClient, seedWorkspace } from "./support/api";
import { E2E } from "./support/env";
import { startRunner, type Proc } from "./support/processes";
import { cardIn, shot, signIn } from "./support/ui";

/**
 * Approvals in the browser: an anthropic agent (scripted by the local Messages API server)
 * asks before each command; a member sees the exact command on the run page and approves
 * one run and denies another, while a viewer in a second browser sees the requests and the
 * answers arrive live, without buttons of their own.
 */

const APPROVED = "echo approved-by-a-person > approved.txt && cat approved.txt";
const DENIED = "rm -rf build && echo cleaned";

test.describe("approvals", () => {
  let runner: Proc | undefined;
  let messages: MessagesServer | undefined;

  test.afterEach(async () => {
    await runner?.stop();
    await messages?.close();
  });

  test("a member approves one command and denies another; a viewer sees both live", async ({ page, browser }) => {
    // The "model": the card title says which command to ask for; after the tool result it is done.
    messages = await startMessagesServer({
      script: (req) => {
        const prompt = JSON.stringify(req.body.messages[0]?.content);
        if (req.body.messages.length > 1) return { text: "Finished." };
        return { content: [{ type: "tool_use", name: "run_command", input: { command: prompt.includes("Deny me") ? DENIED : APPROVED } }] };
      },
    });
    const api = adminClient();
    const { workspace, board, project } = await seedWorkspace(api);
    const workflow = await api.workflow.create.mutate({
      workspaceId: workspace.id,
      name: "Guarded",
      promptTemplate: "{{card.title}}",
      engine: "anthropic",
      approval: "commands",
    });
    const member = await api.token.create.mutate({ workspaceId: workspace.id, role: "member", name: "maria" });
    const viewer = await api.token.create.mutate({ workspaceId: workspace.id, role: "viewer", name: "victor" });
    runner = startRunner({ server: E2E.baseURL, token: E2E.adminToken, workspaceId: workspace.id, anthropicBaseUrl: messages.url });

    const cardA = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Approve me", column: "todo" });
    const runA = await api.run.create.mutate({ cardId: cardA.id, workflowId: workflow.id, model: "claude-sonnet-4-6" });

    await signIn(page, member.token);
    await page.goto(`/boards/${board.id}`);
    await expect(cardIn(page, "Approve me").getByTestId("card-awaiting-approval")).toBeVisible({ timeout: 30_000 });

    const watcher = await (await browser.newContext()).newPage();
    await signIn(watcher, viewer.token);
    await watcher.goto(`/runs/${runA.id}`);

    await cardIn(page, "Approve me").click();
    await page.getByRole("dialog").getByTestId("card-run-link").first().click();
    await expect(page).toHaveURL(new RegExp(`/runs/${runA.id}$`));
    const request = page.getByTestId("approval-request");
    await expect(request.getByTestId("approval-command")).toHaveText(APPROVED);
    await expect(watcher.getByTestId("approval-request").getByTestId("approval-command")).toHaveText(APPROVED);
    await expect(watcher.getByTestId("approval-request").getByRole("button", { name: "Approve" })).toHaveCount(0);
    await expect(page.getByTestId("event-log").getByTestId("tool-call").filter({ hasText: "run_command" })).toContainText("waiting for approval");
    await shot(page, "run-approval", { fullPage: false });
    await request.getByRole("button", { name: "Approve" }).click();

    for (const p of [page, watcher]) {
      await expect(p.getByTestId("event-log").locator('[data-testid="approval-event"][data-phase="granted"]')).toContainText("by member:maria");
      await expect(p.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
      await expect(p.getByTestId("approvals")).toHaveCount(0);
    }
    await expect(page.getByTestId("diff-files")).toContainText("approved.txt");

    // The second run: denied with a note, which the agent is told.
    const cardB = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Deny me", column: "todo" });
    const runB = await api.run.create.mutate({ cardId: cardB.id, workflowId: workflow.id, model: "claude-sonnet-4-6" });
    await page.goto(`/runs/${runB.id}`);
    await watcher.goto(`/runs/${runB.id}`);
    await expect(page.getByTestId("approval-command")).toHaveText(DENIED, { timeout: 30_000 });
    await expect(watcher.getByTestId("approval-command")).toHaveText(DENIED);
    await page.getByTestId("approval-request").getByLabel("Note (optional, the agent reads it)").fill("keep the build directory");
    await page.getByTestId("approval-request").getByRole("button", { name: "Deny" }).click();
    for (const p of [page, watcher]) {
      await expect(p.getByTestId("event-log").locator('[data-testid="approval-event"][data-phase="denied"]')).toContainText("keep the build directory");
      await expect(p.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
    }
    await expect(page.getByTestId("event-log").getByTestId("tool-call").filter({ hasText: "run_command" })).toContainText("error");

    // What the model was told, and what it was not.
    const toldA = JSON.stringify(
      messages.requests.find((r) => r.body.messages.length > 1 && JSON.stringify(r.body.messages[0]).includes("Approve me"))?.body.messages.at(-1),
    );
    const toldB = JSON.stringify(
      messages.requests.find((r) => r.body.messages.length > 1 && JSON.stringify(r.body.messages[0]).includes("Deny me"))?.body.messages.at(-1),
    );
    expect(toldA).toContain("approved-by-a-person");
    expect(toldB).toContain("keep the build directory");
    expect(toldB).not.toContain("cleaned");
    const approvals = await createAgentboardClient({ url: E2E.baseURL, token: viewer.token }).run.approvals.query({ runId: runB.id });
    expect(approvals).toMatchObject([{ status: "denied", decidedBy: "member:maria", note: "keep the build directory" }]);
  });

  test("a request nobody answers expires after the workflow's timeout: shown as expired, and the agent is told no", async ({ page }) => {
    const ASKED = "echo nobody-answered > unanswered.txt";
    messages = await startMessagesServer({
      script: (req) =>
        req.body.messages.length > 1 ? { text: "Finished." } : { content: [{ type: "tool_use", name: "run_command", input: { command: ASKED } }] },
    });
    const api = adminClient();
    const { workspace, board, project } = await seedWorkspace(api);
    const workflow = await api.workflow.create.mutate({
      workspaceId: workspace.id,
      name: "Guarded, briefly",
      promptTemplate: "{{card.title}}",
      engine: "anthropic",
      approval: "commands",
      approvalTimeoutMs: 4_000,
    });
    const card = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Nobody answers", column: "todo" });
    const run = await api.run.create.mutate({ cardId: card.id, workflowId: workflow.id, model: "claude-sonnet-4-6" });

    // The page is open before the runner starts: the request lives only 4 s, and a page
    // still loading when it expired would never show it (the test failed so once).
    await signIn(page, E2E.adminToken);
    await page.goto(`/runs/${run.id}`);
    await expect(page.getByTestId("run-status")).toContainText("queued");
    runner = startRunner({ server: E2E.baseURL, token: E2E.adminToken, workspaceId: workspace.id, anthropicBaseUrl: messages.url });
    await expect(page.getByTestId("approval-command")).toHaveText(ASKED, { timeout: 30_000 });
    // Nobody answers: the request ends as expired, the panel goes, and the run goes on without the command.
    await expect(page.getByTestId("event-log").locator('[data-testid="approval-event"][data-phase="expired"]')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId("approvals")).toHaveCount(0);
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
    await expect(page.getByTestId("event-log").getByTestId("tool-call").filter({ hasText: "run_command" })).toContainText("error");
    expect((await api.run.approvals.query({ runId: run.id })).map((a) => a.status)).toEqual(["expired"]);
    const told = JSON.stringify(messages.requests.find((r) => r.body.messages.length > 1)?.body.messages.at(-1));
    expect(told).toContain("no one answered the approval request");
  });
});
