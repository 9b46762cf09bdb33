import { expect, test, type Page } from "@playwright/test";
import { git, writeFile } from "@agentboard/testkit";
import { adminClient, seedWorkspace } from "./support/api";
import { E2E } from "./support/env";
import { startRunner, type Proc } from "./support/processes";
import { signIn } from "./support/ui";

/**
 * The merge panel against a moving base, from the browser (docs/review-loop.md), with a real
 * runner (`command` engine) and a real repository: re-run a finished run; the base moves and
 * the panel warns; "Update from main" merges it in and the check that passed on the old
 * head is asked for again (the stale-evidence message); the base then conflicts with the
 * branch, the panel lists the file, and "Ask the agent to resolve" ends in a merge commit
 * on the branch, which merges.
 */

// First run: writes notes.txt. A run that finds conflict markers in it resolves them.
const COMMAND =
  "if grep -q '^<<<<<<<' notes.txt 2>/dev/null; then printf 'resolved\\n' > notes.txt; elif [ ! -f notes.txt ]; then printf 'one\\n' > notes.txt; fi";

function commitOnMain(repo: string, files: Record<string, string>, message: string) {
  for (const [rel, content] of Object.entries(files)) writeFile(repo, rel, content);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", message);
}

const runIdOf = (page: Page) => page.url().split("/runs/")[1]!.split(/[?#]/)[0]!;

test.describe("a moving base at the merge panel", () => {
  let runner: Proc | undefined;

  test.afterEach(async () => {
    await runner?.stop();
    runner = undefined;
  });

  test("re-run, base moved warning, update from base asks for the check again, conflicts listed, the agent resolves, merge", async ({ page }) => {
    test.setTimeout(180_000);
    const api = adminClient();
    const { workspace, board, project, repoPath } = await seedWorkspace(api);
    runner = startRunner({ server: E2E.baseURL, token: E2E.adminToken, workspaceId: workspace.id });
    const workflow = await api.workflow.create.mutate({
      workspaceId: workspace.id,
      name: "Checked notes",
      promptTemplate: "{{card.title}}",
      engine: "command",
      command: COMMAND,
      dod: [{ key: "tests", title: "Notes exist", required: true, check: "test -f notes.txt", autoValidate: true }],
    });
    const card = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Write notes", column: "todo" });
    const first = await api.run.create.mutate({ cardId: card.id, workflowId: workflow.id });

    await signIn(page);
    await page.goto(`/runs/${first.id}`);
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
    await expect(page.getByTestId("merge-ready")).toBeVisible();

    // Re-run: the same settings, on the same branch; the first run is superseded.
    await page.getByTestId("branch-actions").getByRole("button", { name: "Re-run", exact: true }).click();
    await expect(page).not.toHaveURL(new RegExp(`/runs/${first.id}$`));
    const retryId = runIdOf(page);
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
    expect(await api.run.byId.query({ runId: retryId })).toMatchObject({ kind: "retry", branch: first.branch });
    await expect(page.getByTestId("merge-ready")).toBeVisible();
    await page.goto(`/runs/${first.id}`);
    await expect(page.getByTestId("superseded")).toBeVisible();
    await expect(page.locator('[data-testid="merge-reasons"] [data-reason="NOT_THREAD_HEAD"]')).toBeVisible();
    await expect(page.getByTestId("merge-ways-forward")).toHaveCount(0);

    // The base moves (someone else's work): a warning, still mergeable.
    commitOnMain(repoPath, { "other.txt": "other\n" }, "someone else's work");
    await page.goto(`/runs/${retryId}`);
    const moved = page.getByTestId("base-moved");
    await expect(moved).toBeVisible();
    await expect(moved).toHaveAttribute("data-behind", "1");
    await expect(moved).toContainText("they merge cleanly");
    await expect(page.getByTestId("merge-ready")).toBeVisible();

    // Update from main: a merge commit on the branch; the check passed on the old head no longer counts.
    const before = git(repoPath, "rev-parse", first.branch);
    await page.getByTestId("merge-update-from-base").click();
    await expect(page.getByTestId("stale-evidence")).toContainText("The branch moved since this evidence was given", { timeout: 15_000 });
    await expect(page.getByTestId("stale-evidence")).toContainText(`its check passed on ${before.slice(0, 7)}`);
    await expect(page.getByTestId("merge-button")).toBeDisabled();
    await expect(page.getByTestId("base-moved")).toHaveCount(0);
    const updated = git(repoPath, "rev-parse", first.branch);
    expect(git(repoPath, "rev-list", "--parents", "-n", "1", updated).split(" ")).toHaveLength(3);

    // The base now conflicts with the branch: the panel lists the file and is not Ready.
    commitOnMain(repoPath, { "notes.txt": "main's notes\n" }, "conflicting notes");
    await page.reload();
    await expect(page.locator('[data-testid="merge-reasons"] [data-reason="MERGE_CONFLICT"]')).toBeVisible();
    await expect(page.getByTestId("merge-conflict-files").first()).toContainText("notes.txt");
    await expect(page.getByTestId("merge-ready")).toHaveCount(0);
    // Updating says the same and changes nothing.
    await page.getByTestId("merge-update-from-base").click();
    await expect(page.getByTestId("merge-update-conflicts")).toContainText("notes.txt");
    expect(git(repoPath, "rev-parse", first.branch)).toBe(updated);

    // Ask the agent to resolve: its run commits the merge; its check passes on that head; it merges.
    await page.getByTestId("merge-resolve-conflicts").first().click();
    await expect(page).not.toHaveURL(new RegExp(`/runs/${retryId}$`));
    const resolveId = runIdOf(page);
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
    expect(await api.run.byId.query({ runId: resolveId })).toMatchObject({ kind: "resolve_conflicts", parentRunId: retryId });
    expect(git(repoPath, "show", `${first.branch}:notes.txt`)).toBe("resolved");
    await expect(page.getByTestId("merge-ready")).toBeVisible();
    page.once("dialog", (d) => void d.accept());
    await page.getByTestId("merge-button").click();
    await expect(page.getByTestId("run-status")).toContainText("merged");
    expect(git(repoPath, "show", "main:notes.txt")).toBe("resolved");
  });
});
