import { expect, test } from "@playwright/test";
import { adminClient, seedWorkspace } from "./support/api";
import { E2E } from "./support/env";
import { startRunner, type Proc } from "./support/processes";
import { cardIn, column, signIn } from "./support/ui";

/**
 * Runs that need a person, on the board (docs/review-loop.md, Attention), with a real runner:
 * a failed run does not leave its card In progress and is marked; with "Notify me" on, the
 * browser's Notification API is called for a run I started; the start form remembers the
 * project's last settings, which "Add and start" uses to create and start a card in one step.
 */

const recorded = () => window.__agentboardNotifications ?? [];

declare global {
  interface Window {
    __agentboardNotifications?: string[];
  }
}

test.describe("attention on the board", () => {
  let runner: Proc | undefined;

  test.afterEach(async () => {
    await runner?.stop();
    runner = undefined;
  });

  test("a failed run is marked and leaves In progress, I am notified, the start form remembers, add and start", async ({ page, context }) => {
    test.setTimeout(120_000);
    const api = adminClient();
    const { workspace, board } = await seedWorkspace(api);
    runner = startRunner({ server: E2E.baseURL, token: E2E.adminToken, workspaceId: workspace.id });
    await context.grantPermissions(["notifications"], { origin: E2E.baseURL });
    // The real Notification API, with the titles it is called with kept for the test to read.
    await page.addInitScript(() => {
      const Real = window.Notification;
      const titles: string[] = [];
      window.__agentboardNotifications = titles;
      class Recorded extends Real {
        constructor(title: string, options?: NotificationOptions) {
          titles.push(title);
          super(title, options);
        }
      }
      window.Notification = Recorded;
    });

    await signIn(page);
    await page.goto(`/boards/${board.id}`);
    const toggle = page.getByTestId("notify-toggle");
    await expect(toggle).not.toBeChecked();
    await toggle.check();
    await expect(toggle).toBeChecked();

    // A card started from its dialog with a command that fails.
    await column(page, "todo").getByRole("button", { name: "+ Add card" }).click();
    await page.getByLabel("New card title (todo)").fill("Breaks");
    await page.keyboard.press("Enter");
    await expect(cardIn(column(page, "todo"), "Breaks")).toBeVisible();
    await column(page, "todo").getByRole("button", { name: "Close", exact: true }).click();
    await cardIn(page, "Breaks").click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Start run" }).click();
    await dialog.getByLabel("Engine").selectOption("command");
    await dialog.getByLabel("Command", { exact: true }).fill("exit 3");
    await dialog.getByTestId("run-budget").fill("1.5");
    await dialog.getByRole("button", { name: "Start run" }).click();
    await expect(dialog.getByText("Run queued.")).toBeVisible();
    await dialog.getByRole("button", { name: "Close" }).click();

    // It fails: the card is back in To do, marked, and I was notified.
    const failed = cardIn(column(page, "todo"), "Breaks");
    await expect(failed.getByTestId("card-attention")).toHaveAttribute("data-attention", "failed", { timeout: 60_000 });
    await expect(cardIn(column(page, "in_progress"), "Breaks")).toHaveCount(0);
    await expect.poll(() => page.evaluate(recorded)).toContain("“Breaks” failed");

    // Add and start: a new card of the project, started with the project's last settings.
    await column(page, "todo").getByRole("button", { name: "+ Add card" }).click();
    await page.getByLabel("New card title (todo)").fill("Breaks again");
    await page.getByTestId("add-and-start").click();
    await column(page, "todo").getByRole("button", { name: "Close", exact: true }).click();
    await expect(cardIn(column(page, "todo"), "Breaks again").getByTestId("card-attention")).toHaveAttribute("data-attention", "failed", { timeout: 60_000 });
    await expect.poll(() => page.evaluate(recorded)).toContain("“Breaks again” failed");
    const cards = await api.card.list.query({ boardId: board.id });
    const again = cards.find((c) => c.title === "Breaks again")!;
    expect(await api.run.byId.query({ runId: again.runs[0]!.id })).toMatchObject({ engine: "command", command: "exit 3", budgetUsd: 1.5 });

    // The start form of a card remembers what it was last started with.
    await cardIn(page, "Breaks").click();
    await dialog.getByRole("button", { name: "Start run" }).click();
    await expect(dialog.getByLabel("Engine")).toHaveValue("command");
    await expect(dialog.getByLabel("Command", { exact: true })).toHaveValue("exit 3");
    await expect(dialog.getByTestId("run-budget")).toHaveValue("1.5");

    // Turned off, it stays off after a reload.
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.getByRole("button", { name: "Close" }).click();
    await toggle.uncheck();
    await page.reload();
    await expect(page.getByTestId("notify-toggle")).not.toBeChecked();
  });
});
