import { existsSync } from "node:fs";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { git, writeFile } from "@agentboard/testkit";
import { errorReason } from "@agentboard/client";
import { adminClient, seedWorkspace } from "./support/api";
import { E2E } from "./support/env";
import { waitForRunStatus } from "./support/runs";
import { startRunner, type Proc } from "./support/processes";
import { cardIn, column, shot, signIn } from "./support/ui";

/**
 * The Definition of Done and the merge from the run page, against a real git repository and
 * real runs executed by a real runner process (`command` engine): the gate blocks the merge
 * with its reasons, an admin adds and validates evidence, merges, and the base branch gets a
 * two-parent merge commit while the card lands in Done. Abort and worktree removal too.
 */

function dodItem(page: Page, key: string): Locator {
  return page.locator(`[data-testid="dod-item"][data-key="${key}"]`);
}

/** Adds text evidence to an item through its "+ Evidence" button and the dialog. */
async function addTextEvidence(page: Page, item: Locator, title: string, text: string) {
  await item.getByRole("button", { name: `Add evidence to ${title}` }).click();
  const dialog = page.getByRole("dialog", { name: `Add evidence: ${title}` });
  await expect(dialog.getByLabel("Item")).toHaveValue(/.+/);
  await dialog.getByLabel("Evidence").fill(text);
  await dialog.getByRole("button", { name: "Add evidence" }).click();
  await expect(dialog).toBeHidden();
  await expect(item.getByTestId("dod-evidence").filter({ hasText: text })).toBeVisible();
}

test.describe("Definition of Done, merge and abort from the run page", () => {
  let runner: Proc | undefined;

  test.afterEach(async () => {
    await runner?.stop();
    runner = undefined;
  });

  test("an admin validates evidence and merges: a two-parent merge commit, the card in Done; a member cannot merge", async ({ page, browser }) => {
    test.setTimeout(150_000);
    const api = adminClient();
    const { workspace, board, project, repoPath } = await seedWorkspace(api);
    runner = startRunner({ server: E2E.baseURL, token: E2E.adminToken, workspaceId: workspace.id });
    // Two required items for people, and an optional automatic check the runner runs after
    // the agent (and the merge runs again on the integrated state when asked to re-verify).
    const workflow = await api.workflow.create.mutate({
      workspaceId: workspace.id,
      name: "Changelog",
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: "printf '# Changelog\\n\\n## 0.2.0\\n- A greeting on the home page\\n' > CHANGELOG.md; echo wrote CHANGELOG.md",
      dod: [
        { key: "tests", title: "Tests pass", required: true },
        { key: "review", title: "Change reviewed by a person", required: true },
        { key: "changelog", title: "Changelog mentions the feature", required: false, check: "grep -n greeting CHANGELOG.md" },
      ],
    });
    const title = "Start a changelog";
    const card = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title, column: "todo" });
    const run = await api.run.create.mutate({ cardId: card.id, workflowId: workflow.id });
    const mainBefore = git(repoPath, "rev-parse", "main");

    await signIn(page);
    await page.goto(`/runs/${run.id}`);
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });

    // The gate: the run succeeded, but nothing is validated — the button says so and is off.
    const mergeButton = page.getByTestId("merge-button");
    await expect(mergeButton).toBeDisabled();
    const reasons = page.getByTestId("merge-reasons");
    await expect(reasons.locator('[data-reason="DOD_INCOMPLETE"]')).toContainText("Tests pass");
    await expect(reasons.locator('[data-reason="DOD_INCOMPLETE"]')).toContainText("Change reviewed by a person");
    await expect(page.getByTestId("dod-progress")).toHaveText("0 of 2 required items validated");
    // The runner's check result: command, exit code, duration and the tail of its output.
    const check = dodItem(page, "changelog");
    await expect(check).toHaveAttribute("data-status", "done");
    await expect(check.getByTestId("check-exit")).toHaveText("exit 0");
    await expect(check).toContainText("$ grep -n greeting CHANGELOG.md");
    await check.getByText("Output (tail)").click();
    await expect(check.locator("pre")).toContainText("4:- A greeting on the home page");

    // Evidence under a new key makes an optional item; a file over the limit never leaves the browser.
    await page.getByRole("button", { name: "+ Add evidence" }).click();
    let dialog = page.getByRole("dialog", { name: "Add evidence" });
    await dialog.getByLabel("Item").selectOption({ label: "New item…" });
    await dialog.getByLabel("Key").fill("changelog-file");
    await dialog.getByLabel("Title").fill("Changelog attached");
    await dialog.getByLabel("Kind").selectOption("file");
    await dialog.getByLabel("File").setInputFiles({ name: "huge.log", mimeType: "text/plain", buffer: Buffer.alloc(5 * 1024 * 1024 + 1, 97) });
    await expect(dialog.getByText("the limit is 5.0 MiB")).toBeVisible();
    await expect(dialog.getByRole("button", { name: "Add evidence" })).toBeDisabled();
    await dialog.getByLabel("File").setInputFiles({ name: "CHANGELOG.md", mimeType: "text/markdown", buffer: Buffer.from("# Changelog\n\n## 0.2.0\n") });
    await dialog.getByRole("button", { name: "Add evidence" }).click();
    await expect(dialog).toBeHidden();
    const fileItem = dodItem(page, "changelog-file");
    await expect(fileItem).toContainText("optional");
    const download = page.waitForEvent("download");
    await fileItem.getByRole("button", { name: /CHANGELOG\.md/ }).click();
    expect((await download).suggestedFilename()).toBe("CHANGELOG.md");

    // A link, on an existing item, rejected with a reason: the item fails and stays missing.
    const review = dodItem(page, "review");
    await review.getByRole("button", { name: "Add evidence to Change reviewed by a person" }).click();
    dialog = page.getByRole("dialog", { name: "Add evidence: Change reviewed by a person" });
    await dialog.getByLabel("Kind").selectOption("url");
    await dialog.getByLabel("URL").fill("https://review.example.com/changes/42");
    await dialog.getByLabel("Note").fill("first pass");
    await dialog.getByRole("button", { name: "Add evidence" }).click();
    await expect(dialog).toBeHidden();
    await expect(review.getByRole("link", { name: "https://review.example.com/changes/42" })).toBeVisible();
    await expect(review).toHaveAttribute("data-status", "done");
    await review.getByRole("button", { name: "Reject" }).click();
    const reject = page.getByRole("dialog", { name: "Reject evidence for “Change reviewed by a person”" });
    await reject.getByLabel("Reason").fill("The review link is for another change");
    await reject.getByRole("button", { name: "Reject evidence" }).click();
    await expect(review).toHaveAttribute("data-status", "failed");
    await expect(review.getByTestId("evidence-decision")).toContainText("rejected by admin:");
    await expect(review.getByTestId("evidence-decision")).toContainText("The review link is for another change");

    // Text evidence, validated, for each required item.
    await addTextEvidence(page, dodItem(page, "tests"), "Tests pass", "npm test: 42 passed, 0 failed");
    await addTextEvidence(page, review, "Change reviewed by a person", "Read the diff: the changelog entry matches the release.");
    for (const key of ["tests", "review"]) {
      const item = dodItem(page, key);
      await item.locator('[data-testid="dod-evidence"][data-decision="waiting"]').getByRole("button", { name: "Validate" }).click();
      await expect(item).toHaveAttribute("data-status", "validated");
    }
    await expect(dodItem(page, "tests").getByTestId("evidence-decision")).toContainText("validated by admin:");
    await expect(page.getByTestId("dod-progress")).toHaveText("2 of 2 required items validated");
    await expect(page.getByTestId("merge-ready")).toBeVisible();
    await expect(mergeButton).toBeEnabled();
    await shot(page, "run-dod");

    // A member sees the same gate, ready, and no merge button: only admins merge.
    const { token: memberToken } = await api.token.create.mutate({ workspaceId: workspace.id, role: "member", name: "mia" });
    const member = await (await browser.newContext()).newPage();
    await signIn(member, memberToken);
    await member.goto(`/runs/${run.id}`);
    await expect(dodItem(member, "tests")).toHaveAttribute("data-status", "validated");
    await expect(member.getByTestId("merge-reasons").locator('[data-reason="FORBIDDEN"]')).toContainText("only an admin can merge");
    await expect(member.getByTestId("merge-button")).toHaveCount(0);
    await expect(member.getByRole("button", { name: /^Merge/ })).toHaveCount(0);
    // Members may still abort (they are offered it), but not here: leave the run to the admin.
    await expect(member.getByRole("button", { name: "Abort…" })).toBeVisible();
    await member.context().close();

    await page.getByLabel("Re-verify on the integrated state").check();
    // The merge asks first, as cancel and abort do: declined, nothing happens.
    const asked: string[] = [];
    page.once("dialog", (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await mergeButton.click();
    await expect.poll(() => asked.length).toBe(1);
    expect(asked[0]).toBe(`Merge ${run.branch} into main once a runner has re-verified it? Its worktree and branch are removed afterwards.`);
    await expect(page.getByTestId("run-status")).toContainText("succeeded");
    expect((await api.run.byId.query({ runId: run.id })).status).toBe("succeeded");
    page.once("dialog", (d) => void d.accept());
    await mergeButton.click();
    // The merge is work for the runner first: it re-verifies in its sandbox, then the server merges.
    await expect(page.getByTestId("run-status")).toContainText("merged", { timeout: 30_000 });
    await expect(page.getByTestId("merge-result")).toContainText(`${run.branch} was merged into main by admin:`);
    await expect(page.getByTestId("provenance").locator('[data-provenance="Merged"]')).toContainText("admin:");
    // The checklist is the record now: no more decisions.
    await expect(page.getByRole("button", { name: "Validate" })).toHaveCount(0);

    // git: main moved to a merge commit whose parents are the old main and the run's work.
    const head = git(repoPath, "rev-parse", "main");
    const [commit, ...parents] = git(repoPath, "rev-list", "--parents", "-n", "1", "main").split(" ");
    expect(commit).toBe(head);
    expect(parents).toHaveLength(2);
    expect(parents[0]).toBe(mainBefore);
    expect(git(repoPath, "show", "-s", "--format=%B", "main")).toContain(`Agentboard-Run: ${run.id}`);
    expect(git(repoPath, "show", "main:CHANGELOG.md")).toContain("A greeting on the home page");
    const merged = await api.run.byId.query({ runId: run.id });
    expect(merged.mergeCommit).toBe(head);
    const events = await api.run.events.query({ runId: run.id, limit: 1000 });
    expect(events.find((e) => e.type === "run.reverify_requested")?.actor).toMatch(/^admin:/);
    // Claimed and reported by the runner: the server ran none of it.
    const reverified = events.find((e) => e.type === "run.reverified");
    expect(reverified?.payload).toMatchObject({ passed: true, checks: [expect.objectContaining({ key: "changelog", exitCode: 0 })] });
    expect((await api.run.mergeability.query({ runId: run.id })).verification).toMatchObject({ status: "merged", runnerId: expect.any(String) });
    expect(events.find((e) => e.type === "run.merged")?.payload).toMatchObject({ reverified: true, parents });
    // Cleanup: the run's branch and worktree are gone.
    expect(git(repoPath, "branch", "--list", run.branch)).toBe("");
    if (merged.worktreePath) expect(existsSync(merged.worktreePath)).toBe(false);

    await page.goto(`/boards/${board.id}`);
    await expect(cardIn(column(page, "done"), title)).toBeVisible();
    await expect(cardIn(column(page, "done"), title).getByTestId("card-run")).toContainText("merged");
  });

  test("a merge conflict is shown with its files and leaves the base branch untouched", async ({ page }) => {
    const api = adminClient();
    const { workspace, board, project, repoPath } = await seedWorkspace(api);
    runner = startRunner({ server: E2E.baseURL, token: E2E.adminToken, workspaceId: workspace.id });
    const card = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Retitle the README", column: "todo" });
    const run = await api.run.create.mutate({ cardId: card.id, engine: "command", command: "printf '# demo, retitled by the agent\\n' > README.md" });
    await waitForRunStatus(api, run.id, "succeeded");
    // Meanwhile someone changed the same line on main.
    writeFile(repoPath, "README.md", "# demo, retitled by a person\n");
    git(repoPath, "commit", "-q", "-am", "Retitle the README by hand");
    const mainBefore = git(repoPath, "rev-parse", "main");
    // The Definition of Done is complete (through the typed client: the UI flow is tested above).
    for (const itemKey of ["tests", "review"]) {
      const { evidence } = await api.dod.addEvidence.mutate({ runId: run.id, itemKey, kind: "text", payload: { text: "checked" } });
      await api.dod.validate.mutate({ evidenceId: evidence.id });
    }

    await signIn(page);
    await page.goto(`/runs/${run.id}`);
    // The panel says so before anyone tries: the conflict and its files are a reason the
    // merge waits, the base is shown to have moved, and the ways forward are offered.
    const conflict = page.getByTestId("merge-reasons").locator('[data-reason="MERGE_CONFLICT"]');
    await expect(conflict.getByTestId("merge-conflict-files")).toHaveText("README.md");
    await expect(page.getByTestId("merge-button")).toBeDisabled();
    await expect(page.getByTestId("base-moved")).toContainText("merging would conflict in 1 file");
    await expect(page.getByTestId("merge-resolve-conflicts")).toBeVisible();
    // Asked anyway (through the API), the merge is refused with the files, and recorded.
    expect(await api.run.merge.mutate({ runId: run.id }).catch((e: unknown) => errorReason(e))).toBe("MERGE_CONFLICT");
    await page.reload();
    await expect(page.getByTestId("run-status")).toContainText("succeeded");
    expect(git(repoPath, "rev-parse", "main")).toBe(mainBefore);
    expect(git(repoPath, "status", "--porcelain")).toBe("");
    expect(git(repoPath, "branch", "--list", run.branch)).toContain(run.branch);
    // The conflict is part of the record.
    await page
      .getByTestId("provenance")
      .getByText(/^Decisions/)
      .click();
    await expect(page.getByTestId("provenance-decisions")).toContainText("run.merge_conflict");
    await expect(page.getByTestId("provenance-decisions")).toContainText("files README.md");
  });

  test("abort from the run page removes the worktree and the branch; an idle worktree is removed from the worktrees page", async ({ page }) => {
    test.setTimeout(150_000);
    const api = adminClient();
    const { workspace, board, project, repoPath } = await seedWorkspace(api);
    runner = startRunner({ server: E2E.baseURL, token: E2E.adminToken, workspaceId: workspace.id });

    // A finished run whose worktree is idle, and a long one that is still running.
    const doneCard = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Tidy the README", column: "todo" });
    const done = await api.run.create.mutate({ cardId: doneCard.id, engine: "command", command: "echo tidy >> README.md" });
    await waitForRunStatus(api, done.id, "succeeded");
    const longCard = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Rewrite everything", column: "todo" });
    const long = await api.run.create.mutate({ cardId: longCard.id, engine: "command", command: "echo started; sleep 120; echo never" });

    await signIn(page);
    await page.goto(`/runs/${long.id}`);
    await expect(page.getByTestId("event-log")).toContainText("started", { timeout: 60_000 });
    await expect(page.getByTestId("run-status")).toContainText("running");
    const running = await api.run.byId.query({ runId: long.id });
    expect(running.worktreePath).toBeTruthy();
    const longPath = running.worktreePath!;
    expect(existsSync(longPath)).toBe(true);
    // The agent works in a private clone on the run's branch; the project's repository gets
    // the branch only when the run's result comes back (docs/sandbox.md).
    expect(git(longPath, "branch", "--show-current")).toBe(long.branch);
    expect(git(repoPath, "branch", "--list", long.branch)).toBe("");

    // The worktrees page: the running one cannot be removed, the idle one can (its branch stays).
    await page.goto(`/worktrees?workspace=${workspace.id}`);
    const table = page.getByTestId("worktrees-table");
    const longRow = table.getByRole("row").filter({ hasText: "Rewrite everything" });
    await expect(longRow).toContainText("active");
    await expect(longRow.getByTestId("worktree-active")).toContainText("abort it first");
    await expect(longRow.getByRole("button", { name: /^Remove/ })).toHaveCount(0);
    const doneRow = table.getByRole("row").filter({ hasText: "Tidy the README" });
    await expect(doneRow).toContainText("idle");
    const donePath = (await api.run.byId.query({ runId: done.id })).worktreePath!;
    await doneRow.getByRole("button", { name: `Remove worktree ${donePath}` }).click();
    const confirm = page.getByRole("dialog", { name: "Remove this worktree?" });
    await confirm.getByRole("button", { name: "Remove worktree" }).click();
    await expect(confirm).toBeHidden();
    await expect(doneRow).toHaveCount(0);
    expect(existsSync(donePath)).toBe(false);
    expect(git(repoPath, "branch", "--list", done.branch)).toContain(done.branch);
    await page.getByLabel("Show removed").check();
    await expect(table.getByRole("row").filter({ hasText: "Tidy the README" })).toContainText("removed");

    // Abort the running one from its page, with a reason.
    await page.goto(`/runs/${long.id}`);
    await page.getByRole("button", { name: "Abort…" }).click();
    const abort = page.getByRole("dialog", { name: "Abort this run?" });
    await expect(abort).toContainText(long.branch);
    await abort.getByLabel("Reason (optional)").fill("Too broad: split the card first");
    await abort.getByRole("button", { name: "Abort run" }).click();
    await expect(abort).toBeHidden();
    await expect(page.getByTestId("run-status")).toContainText("aborted");
    await expect(page.getByTestId("merge-panel")).toContainText("Too broad: split the card first");
    await expect(page.getByTestId("provenance").locator('[data-provenance="Aborted"]')).toContainText("Too broad: split the card first");
    await expect(page.getByRole("button", { name: "Abort…" })).toHaveCount(0);
    // The answer came after the cleanup: the directory and the branch are gone now.
    expect(existsSync(longPath)).toBe(false);
    expect(git(repoPath, "branch", "--list", long.branch)).toBe("");
    expect(git(repoPath, "worktree", "list", "--porcelain")).not.toContain(longPath);
  });
});
