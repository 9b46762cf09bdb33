import { expect, test, type Browser, type Page } from "@playwright/test";
import { adminClient, makeRepo, seedWorkspace, unique } from "./support/api";
import { E2E } from "./support/env";
import { p95FrameMs, reportPerf } from "./support/perf";
import { cardIn, column, drag, shot, signIn } from "./support/ui";

/** A signed-in page in a browser context of its own (its own cookies, its own SSE streams). */
async function openBoard(browser: Browser, boardId: string, token = E2E.adminToken): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, token);
  await page.goto(`/boards/${boardId}`);
  await expect(page.getByTestId("live-state")).toHaveAttribute("data-state", "live");
  return page;
}

test("sign in with a pasted token, a refused token, sign out, and the sign-in link", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);

  await page.getByLabel("API token").fill("ab_not_a_real_token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("#login-error")).toContainText("not valid");

  await page.getByLabel("API token").fill(E2E.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Boards", level: 1 })).toBeVisible();
  await expect(page.getByTestId("whoami")).toContainText("admin");
  const cookie = (await page.context().cookies()).find((c) => c.name === "agentboard_session");
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);

  // The printed link: the token is in the fragment, which the server never sees, and it is
  // gone from the address bar and the history once the page has posted it. (From a blank
  // page: from /login itself, only the fragment would change and nothing would load.)
  await page.goto("about:blank");
  const answer = await page.goto(`/login#token=${E2E.adminToken}`);
  expect(answer?.headers()).toMatchObject({ "x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin" });
  expect(answer?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
  await expect(page).toHaveURL(`${E2E.baseURL}/`);
  await expect(page.getByRole("heading", { name: "Boards", level: 1 })).toBeVisible();
  await page.goBack();
  await expect(page).toHaveURL(`${E2E.baseURL}/login`);

  // The link of earlier versions still works, through the same page.
  await page.context().clearCookies();
  await page.goto(`/login?token=${E2E.adminToken}`);
  await expect(page.getByRole("heading", { name: "Boards", level: 1 })).toBeVisible();
});

test("a sign-in link opened from another site asks before it signs in (login CSRF)", async ({ page }) => {
  // Another site links to the board's sign-in with a token of its own choosing.
  await page.route("http://elsewhere.example/", (route) =>
    route.fulfill({ contentType: "text/html", body: `<a id="go" href="${E2E.baseURL}/login#token=${E2E.adminToken}">win a prize</a>` }),
  );
  await page.goto("http://elsewhere.example/");
  await page.click("#go");
  await expect(page.getByRole("status")).toContainText("opened from another page");
  await expect(page).toHaveURL(`${E2E.baseURL}/login`);
  expect((await page.context().cookies()).find((c) => c.name === "agentboard_session")).toBeUndefined();
  // The person who did mean it signs in with one click.
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Boards", level: 1 })).toBeVisible();
});

test("the header's theme toggle switches to dark, and the choice outlives a reload", async ({ page }) => {
  await page.emulateMedia({ colorScheme: "light" });
  await signIn(page);
  const html = page.locator("html");
  await expect(html).not.toHaveClass(/dark/);
  await page.getByRole("button", { name: /^Theme: system/ }).click();
  await expect(page.getByRole("button", { name: /^Theme: light/ })).toBeVisible();
  await page.getByRole("button", { name: /^Theme: light/ }).click();
  await expect(html).toHaveClass(/dark/);
  await page.reload();
  await expect(html).toHaveClass(/dark/);
  await page.getByRole("button", { name: /^Theme: dark/ }).click();
  await expect(html).not.toHaveClass(/dark/);
});

test("creates a workspace, a project and a board from the UI", async ({ page }) => {
  await signIn(page);
  const slug = unique("ui").toLowerCase();
  await page.getByRole("button", { name: "New workspace" }).click();
  await page.getByLabel("Name").fill(`Workspace ${slug}`);
  await page.getByLabel("Slug").fill(slug);
  await page.getByRole("button", { name: "Create workspace" }).click();
  const section = page.getByRole("region", { name: new RegExp(`Workspace ${slug}`) });
  await expect(section).toBeVisible();

  // A path outside the server's repository roots is refused, with the reason, and nothing is added.
  await section.getByRole("button", { name: "New project" }).click();
  await page.getByLabel("Name").fill("api");
  await page.getByLabel("Repository path").fill("/etc");
  await page.getByRole("button", { name: "Add project" }).click();
  await expect(page.getByText("Could not add the project")).toBeVisible();
  await expect(page.getByText(/inside a repository root of this server/)).toBeVisible();
  await expect(section.getByText("/etc", { exact: true })).toHaveCount(0);

  const repoPath = makeRepo();
  await page.getByLabel("Repository path").fill(repoPath);
  await page.getByRole("button", { name: "Add project" }).click();
  await expect(section.getByText(repoPath)).toBeVisible();

  await section.getByRole("button", { name: "New board" }).click();
  await section.getByLabel("Board name").fill("Roadmap");
  await section.getByRole("button", { name: "Create" }).click();
  await expect(page).toHaveURL(/\/boards\//);
  await expect(page.getByRole("heading", { name: "Roadmap" })).toBeVisible();
  for (const title of ["Backlog", "Todo", "In progress", "In review", "Done"]) {
    await expect(page.getByRole("heading", { name: title, exact: true })).toBeVisible();
  }
  const boardUrl = page.url();

  // The boards list shows it in its workspace and leads back to it.
  await page.getByRole("link", { name: "Boards" }).click();
  const listed = page.getByRole("region", { name: new RegExp(`Workspace ${slug}`) }).getByRole("link", { name: /Roadmap/ });
  await expect(listed).toBeVisible();
  await listed.click();
  await expect(page).toHaveURL(boardUrl);
});

test("cards are created, edited and dragged in one browser and seen live in another", async ({ browser }) => {
  const { board } = await seedWorkspace();
  const a = await openBoard(browser, board.id);
  const b = await openBoard(browser, board.id);
  const title = unique("Fix login redirect");

  // Create in place.
  await column(a, "backlog").getByRole("button", { name: "+ Add card" }).click();
  await a.getByLabel("New card title (backlog)").fill(title);
  await a.keyboard.press("Enter");
  await expect(cardIn(column(a, "backlog"), title)).toBeVisible();
  await expect(cardIn(column(b, "backlog"), title)).toBeVisible();

  // Drag to another column.
  await drag(a, cardIn(a, title), column(a, "todo"));
  await expect(cardIn(column(a, "todo"), title)).toBeVisible();
  await expect(cardIn(column(b, "todo"), title)).toBeVisible();
  await expect(cardIn(column(b, "backlog"), title)).toHaveCount(0);
  const cards = await adminClient().card.list.query({ boardId: board.id });
  expect(cards.find((c) => c.title === title)?.column).toBe("todo");

  // Edit in place.
  await cardIn(a, title).click();
  const dialog = a.getByRole("dialog");
  await dialog.getByLabel("Title").fill(`${title} (edited)`);
  await dialog.getByLabel("Description").fill("Users land on /login after signing in.");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(a.getByText("Card saved")).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(cardIn(column(b, "todo"), `${title} (edited)`)).toBeVisible();
});

test("cards are reordered within a column by mouse and moved by keyboard", async ({ browser }) => {
  const { board, project } = await seedWorkspace();
  const api = adminClient();
  const titles = ["First", "Second", "Third"].map((t) => unique(t));
  for (const t of titles) await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: t, column: "todo" });
  const page = await openBoard(browser, board.id);
  const todo = column(page, "todo");
  await expect(todo.getByTestId("card")).toHaveCount(3);

  // Third goes on top.
  await drag(page, cardIn(todo, titles[2]!), cardIn(todo, titles[0]!), { toEdge: "top" });
  await expect(todo.getByTestId("card-title")).toHaveText([titles[2]!, titles[0]!, titles[1]!]);
  const order = async () =>
    (await api.card.list.query({ boardId: board.id }))
      .filter((c) => c.column === "todo")
      .sort((x, y) => x.position - y.position)
      .map((c) => c.title);
  await expect.poll(order).toEqual([titles[2], titles[0], titles[1]]);

  // Keyboard: Alt+ArrowRight moves the focused card to the next column.
  await cardIn(todo, titles[1]!).focus();
  await page.keyboard.press("Alt+ArrowRight");
  await expect(cardIn(column(page, "in_progress"), titles[1]!)).toBeVisible();
  await expect(cardIn(column(page, "in_progress"), titles[1]!)).toBeFocused();
  await expect.poll(async () => (await api.card.list.query({ boardId: board.id })).find((c) => c.title === titles[1])?.column).toBe("in_progress");

  // Keyboard drag and drop: Space picks up, ArrowUp moves, Space drops.
  const announcer = page.locator("[id^=DndLiveRegion]");
  await cardIn(todo, titles[0]!).focus();
  await page.keyboard.press("Space");
  await expect(announcer).toContainText("is over Todo, position 2 of 2");
  // The sensor starts listening for arrows a moment after it announces the pick-up (dnd-kit
  // attaches its keydown listener in a later task): an arrow pressed in between is not
  // seen, so press until the move is announced. ArrowUp at the top changes nothing.
  await expect(async () => {
    await page.keyboard.press("ArrowUp");
    await expect(announcer).toContainText("is over Todo, position 1 of 2", { timeout: 1_000 });
  }).toPass();
  await page.keyboard.press("Space");
  await expect(announcer).toContainText("Dropped in Todo");
  await expect(todo.getByTestId("card-title")).toHaveText([titles[0]!, titles[2]!]);
  await expect.poll(order).toEqual([titles[0], titles[2]]);
});

/**
 * Keyboard drag across columns: Space, an arrow, Space at once. The drop must land where the
 * last arrow put the card, even when Space comes before the board has re-rendered the move.
 */
test("a keyboard drag to the next column lands there, however fast the drop follows", async ({ browser }) => {
  const { board, project } = await seedWorkspace();
  const api = adminClient();
  const titles = ["Mover", "Stayer"].map((t) => unique(t));
  for (const t of titles) await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: t, column: "todo" });
  const doing = unique("Doing");
  await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: doing, column: "in_progress" });
  const page = await openBoard(browser, board.id);
  const todo = column(page, "todo");
  const announcer = page.locator("[id^=DndLiveRegion]");
  const mover = (await api.card.list.query({ boardId: board.id })).find((c) => c.title === titles[0])!;
  const stayer = (await api.card.list.query({ boardId: board.id })).find((c) => c.title === titles[1])!;
  for (let round = 0; round < 3; round++) {
    // Back on top of Todo for each round.
    await api.card.move.mutate({ cardId: mover.id, column: "todo", beforeCardId: stayer.id });
    await expect(todo.getByTestId("card-title")).toHaveText([titles[0]!, titles[1]!]);
    await cardIn(todo, titles[0]!).focus();
    await page.keyboard.press("Space");
    await expect(announcer).toContainText("is over Todo, position 1 of 2");
    // Wait until the sensor hears arrows (see the test above), then move across and drop at once.
    await expect(async () => {
      await page.keyboard.press("ArrowDown");
      await expect(announcer).toContainText("is over Todo, position 2 of 2", { timeout: 1_000 });
    }).toPass();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Space");
    await expect(cardIn(column(page, "in_progress"), titles[0]!)).toBeVisible();
    await expect.poll(async () => (await api.card.byId.query({ cardId: mover.id })).column).toBe("in_progress");
  }
});

test("a run started on a card shows its live status on every board", async ({ browser }) => {
  const { workspace, board, project } = await seedWorkspace();
  const api = adminClient();
  const title = unique("Add health check");
  await api.card.create.mutate({ boardId: board.id, projectId: project.id, title, description: "Expose GET /healthz", column: "todo" });
  const a = await openBoard(browser, board.id);
  const b = await openBoard(browser, board.id);

  await cardIn(a, title).click();
  const dialog = a.getByRole("dialog");
  await dialog.getByRole("button", { name: "Start run" }).click();
  await expect(dialog.getByTestId("prompt-preview")).toContainText(title);
  await expect(dialog.getByTestId("prompt-preview")).toContainText("Expose GET /healthz");
  await dialog.getByLabel("Engine").selectOption("command");
  await dialog.getByLabel("Command", { exact: true }).fill("echo hello");
  await dialog.getByRole("button", { name: "Start run" }).click();
  await expect(dialog.getByText("Run queued.")).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).click();

  await expect(cardIn(b, title).getByTestId("card-run")).toContainText("queued");
  const run = (await api.run.list.query({ workspaceId: workspace.id, boardId: board.id })).items[0]!;
  expect(run).toMatchObject({ engine: "command", command: "echo hello" });

  // Act as the runner: the card follows the run's status and column, live.
  const claim = await api.run.claim.mutate({ workspaceId: workspace.id, runId: run.id });
  await api.run.start.mutate({ runId: run.id, leaseToken: claim!.leaseToken });
  await expect(cardIn(column(b, "in_progress"), title).getByTestId("card-run")).toContainText("running");
  await api.run.complete.mutate({ runId: run.id, leaseToken: claim!.leaseToken, status: "succeeded", output: { summary: "done" } });
  await expect(cardIn(column(b, "in_review"), title).getByTestId("card-run")).toContainText("succeeded");
  await expect(cardIn(column(a, "in_review"), title).getByTestId("card-run")).toContainText("succeeded");
});

test("a viewer sees the board but is offered no changes", async ({ browser }) => {
  const { workspace, board, project } = await seedWorkspace();
  const api = adminClient();
  const title = unique("Read only");
  await api.card.create.mutate({ boardId: board.id, projectId: project.id, title });
  const { token } = await api.token.create.mutate({ workspaceId: workspace.id, role: "viewer", name: "watcher" });
  const page = await openBoard(browser, board.id, token);
  await expect(page.getByTestId("whoami")).toContainText("viewer");
  await expect(cardIn(page, title)).toBeVisible();
  await expect(page.getByRole("button", { name: "+ Add card" })).toHaveCount(0);
  await expect(cardIn(page, title)).not.toHaveAttribute("aria-roledescription", "draggable card");
  await cardIn(page, title).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByLabel("Title")).toHaveAttribute("readonly", "");
  await expect(dialog.getByRole("button", { name: "Start run" })).toHaveCount(0);
  await expect(dialog.getByRole("button", { name: "Save" })).toHaveCount(0);
});

test("a board of 2,000 cards renders only what is on screen and stays usable", async ({ page }) => {
  test.setTimeout(180_000);
  const { board, project } = await seedWorkspace();
  const api = adminClient();
  const columns = ["backlog", "todo", "in_progress", "in_review", "done"] as const;
  for (let i = 0; i < 2000; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, j) =>
        api.card.create.mutate({
          boardId: board.id,
          projectId: project.id,
          title: `Card ${String(i + j).padStart(4, "0")}`,
          column: i + j < 1200 ? "backlog" : columns[(i + j) % 5],
        }),
      ),
    );
  }
  await signIn(page);
  const started = Date.now();
  await page.goto(`/boards/${board.id}`);
  await expect(page.getByText("2000 cards")).toBeVisible();
  const loadMs = Date.now() - started;
  const rendered = await page.getByTestId("card").count();
  expect(rendered).toBeLessThan(200);
  reportPerf(`2,000 cards: board usable in ${loadMs} ms, ${rendered} card elements rendered`);

  // Scrolling the long column brings its far end into view.
  const scroller = page.getByTestId("column-scroll-backlog");
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(column(page, "backlog").getByTestId("card").last()).toBeVisible();
  // Frame times while scrolling the long column fast (150 px a frame), and while jumping
  // around in it (every frame a different place, the worst case for a virtual list).
  const scrolling = await p95FrameMs(scroller, "scroll");
  const jumping = await p95FrameMs(scroller, "jump");
  reportPerf(`p95 frame in a 1,200-card column: ${scrolling.toFixed(1)} ms scrolling 150 px a frame, ${jumping.toFixed(1)} ms jumping far each frame`);
  await shot(page, "board-2000-cards");
});
