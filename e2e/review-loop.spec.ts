import { expect, test, type Locator, type Page } from "@playwright/test";
import { git } from "@agentboard/testkit";
import { adminClient, seedWorkspace } from "./support/api";
import { E2E } from "./support/env";
import { startRunner, type Proc } from "./support/processes";
import { signIn } from "./support/ui";

/**
 * The review loop from the browser (docs/review-loop.md), against a real repository and a
 * real runner process (`command` engine, whose command does the first change and, run
 * again on the branch, a second one): an admin comments on two lines and on a range of
 * lines (shift-click; Shift+Enter and a drag select ranges too) of a finished run, sends them to the agent, follows the follow-up in
 * the card's thread, sees the new diff with the comments whose lines changed outdated,
 * validates and merges. A second browser sees the thread grow.
 */

const COMMAND = "if [ -f notes.txt ]; then sed -i 's/^two$/TWO/' notes.txt; else printf 'one\\ntwo\\nthree\\n' > notes.txt; fi";

function dodItem(page: Page, key: string): Locator {
  return page.locator(`[data-testid="dod-item"][data-key="${key}"]`);
}

async function comment(page: Page, line: number, body: string) {
  await page.getByRole("button", { name: `Comment on notes.txt line ${line}`, exact: true }).click();
  const box = page.getByRole("textbox", { name: `Your comment on notes.txt line ${line}` });
  await box.fill(body);
  await page.getByRole("button", { name: "Comment", exact: true }).click();
  await expect(page.locator(`[data-testid="line-comments"][data-line="${line}"]`).getByTestId("review-comment").filter({ hasText: body })).toBeVisible();
}

test.describe("the review loop", () => {
  let runner: Proc | undefined;

  test.afterEach(async () => {
    await runner?.stop();
    runner = undefined;
  });

  test("comment on two lines and a range, send them to the agent, watch the follow-up, the comments whose lines changed outdated, validate and merge", async ({
    page,
    browser,
  }) => {
    test.setTimeout(150_000);
    const api = adminClient();
    const { workspace, board, project, repoPath } = await seedWorkspace(api);
    runner = startRunner({ server: E2E.baseURL, token: E2E.adminToken, workspaceId: workspace.id });
    const workflow = await api.workflow.create.mutate({
      workspaceId: workspace.id,
      name: "Notes",
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: COMMAND,
      dod: [{ key: "review", title: "Change reviewed by a person", required: true }],
    });
    const card = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Write the notes", column: "todo" });
    const first = await api.run.create.mutate({ cardId: card.id, workflowId: workflow.id });

    await signIn(page);
    await page.goto(`/runs/${first.id}`);
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });

    // A second browser follows the card's thread from the first run's page.
    const { token: viewerToken } = await api.token.create.mutate({ workspaceId: workspace.id, role: "viewer", name: "vera" });
    const watcher = await (await browser.newContext()).newPage();
    await signIn(watcher, viewerToken);
    await watcher.goto(`/runs/${first.id}`);
    await expect(watcher.getByTestId("thread-run")).toHaveCount(1);
    // A viewer reads, but cannot comment or send the agent back.
    await expect(watcher.getByRole("button", { name: /^Comment on notes\.txt/ })).toHaveCount(0);
    await expect(watcher.getByTestId("follow-up")).toHaveCount(0);

    await comment(page, 2, "Say it louder.");
    await comment(page, 3, "Keep this one as it is.");

    // A range: click line 1's number, shift-click line 2's; the two lines are highlighted
    // and the box under line 2 is for both.
    const file = page.getByRole("region", { name: "notes.txt" });
    await page.getByRole("button", { name: "Comment on notes.txt line 1", exact: true }).click();
    await page.getByRole("button", { name: "Comment on notes.txt line 2", exact: true }).click({ modifiers: ["Shift"] });
    await expect(page.getByTestId("comment-range")).toHaveText("Commenting on lines 1–2");
    await expect(file.locator(".diff-code-selected")).toHaveCount(2);
    await page.getByRole("textbox", { name: "Your comment on notes.txt lines 1–2" }).fill("These two read as one.");
    await page.getByRole("button", { name: "Comment", exact: true }).click();
    const ranged = page.locator('[data-testid="line-comments"][data-line="2"]').getByTestId("review-comment").filter({ hasText: "These two read as one." });
    await expect(ranged).toBeVisible();
    await expect(ranged.getByTestId("comment-lines")).toHaveText("lines 1–2");
    await expect(file.locator(".diff-code-selected")).toHaveCount(0);
    // From the keyboard: Enter on line 3's number, then Shift+Enter on line 1's selects 1–3.
    await page.getByRole("button", { name: "Comment on notes.txt line 3", exact: true }).press("Enter");
    await page.getByRole("button", { name: "Comment on notes.txt line 1", exact: true }).press("Shift+Enter");
    await expect(page.getByRole("textbox", { name: "Your comment on notes.txt lines 1–3" })).toBeFocused();
    await expect(file.locator(".diff-code-selected")).toHaveCount(3);
    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    await expect(page.getByTestId("comment-range")).toHaveCount(0);
    // Dragging from line 2's number to line 3's selects 2–3.
    await page.getByRole("button", { name: "Comment on notes.txt line 2", exact: true }).hover();
    await page.mouse.down();
    await page.getByRole("button", { name: "Comment on notes.txt line 3", exact: true }).hover();
    await page.mouse.up();
    await expect(page.getByTestId("comment-range")).toHaveText("Commenting on lines 2–3");
    await expect(file.locator(".diff-code-selected")).toHaveCount(2);
    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    await expect(page.getByTestId("comment-range")).toHaveCount(0);

    const send = page.getByTestId("send-follow-up");
    await expect(send).toHaveText("Send 3 comments to the agent");
    await page.getByLabel("Note (optional)").fill("Only line two.");
    await send.click();

    // The follow-up's page: it streams live and lands in the same thread.
    await expect(page).not.toHaveURL(new RegExp(`/runs/${first.id}$`));
    const secondId = page.url().split("/runs/")[1]!;
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
    const thread = page.getByTestId("thread-run");
    await expect(thread).toHaveCount(2);
    await expect(thread.nth(1)).toHaveAttribute("data-kind", "follow_up");
    await expect(watcher.getByTestId("thread-run")).toHaveCount(2, { timeout: 15_000 });
    await expect(watcher.getByTestId("thread-run").nth(1)).toHaveAttribute("data-status", "succeeded", { timeout: 15_000 });
    await watcher.context().close();

    // The prompt held both comments with their file, line and code, then the note.
    const second = await api.run.byId.query({ runId: secondId });
    expect(second).toMatchObject({ parentRunId: first.id, branch: first.branch, kind: "follow_up" });
    expect(second.prompt).toContain("notes.txt:2 — admin:");
    expect(second.prompt).toContain("> two");
    expect(second.prompt).toContain("notes.txt:3 — admin:");
    expect(second.prompt).toContain("> three");
    expect(second.prompt).toContain("notes.txt:1-2 — admin:bootstrap:\nThese two read as one.\n```\n> one\n> two\n  three\n```");
    expect(second.prompt).toContain("Note from the reviewer:\nOnly line two.");

    // The new diff: line 2 changed, so its comment is outdated, and so is the range 1–2 that
    // holds it; line 3's still shows on its line.
    await expect(page.getByTestId("outdated-comments")).toContainText("Say it louder.");
    await expect(page.getByTestId("outdated-comments")).toContainText("notes.txt:2 was two");
    await expect(page.getByTestId("outdated-comments")).toContainText("These two read as one.");
    await expect(page.getByTestId("outdated-comments")).toContainText(/notes\.txt:1-2 was one\s+two/);
    await expect(page.locator('[data-testid="line-comments"][data-line="3"]')).toContainText("Keep this one as it is.");

    // Validate on the new head and merge: the branch carries both runs' commits.
    const review = dodItem(page, "review");
    await review.getByRole("button", { name: "Add evidence to Change reviewed by a person" }).click();
    const dialog = page.getByRole("dialog", { name: "Add evidence: Change reviewed by a person" });
    await dialog.getByLabel("Evidence").fill("Read both changes.");
    await dialog.getByRole("button", { name: "Add evidence" }).click();
    await expect(dialog).toBeHidden();
    await review.locator('[data-testid="dod-evidence"][data-decision="waiting"]').getByRole("button", { name: "Validate" }).click();
    await expect(review).toHaveAttribute("data-status", "validated");
    const mainBefore = git(repoPath, "rev-parse", "main");
    page.once("dialog", (d) => void d.accept());
    await page.getByTestId("merge-button").click();
    await expect(page.getByTestId("run-status")).toContainText("merged");
    const parents = git(repoPath, "rev-list", "--parents", "-n", "1", "main").split(" ").slice(1);
    expect(parents[0]).toBe(mainBefore);
    expect(parents).toHaveLength(2);
    expect(git(repoPath, "rev-list", "--count", `${mainBefore}..${parents[1]}`)).toBe("2");
    expect(git(repoPath, "show", "main:notes.txt")).toBe("one\nTWO\nthree");
  });
});
