import { expect, type Locator, type Page } from "@playwright/test";
import { E2E } from "./env";

/** The sign-in link `npm start` prints: the login page posts its token, and lands on the boards. */
export async function signIn(page: Page, token: string = E2E.adminToken, base: string = E2E.baseURL) {
  await page.goto(`${base}/login#token=${encodeURIComponent(token)}`);
  await expect(page.getByRole("heading", { name: "Boards", level: 1 })).toBeVisible();
}

export function column(page: Page, id: "backlog" | "todo" | "in_progress" | "in_review" | "done"): Locator {
  return page.getByTestId(`column-${id}`);
}

/** The card with this exact title inside a page or a column. */
export function cardIn(scope: Page | Locator, title: string): Locator {
  const page = "mouse" in scope ? scope : scope.page();
  return scope.getByTestId("card").filter({ has: page.getByTestId("card-title").getByText(title, { exact: true }) });
}

/** Drags with the mouse the way a person does: press, move in steps, release. */
export async function drag(page: Page, from: Locator, to: Locator, opts: { toEdge?: "top" | "bottom" } = {}) {
  await from.scrollIntoViewIfNeeded();
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  if (!a || !b) throw new Error("drag: element not visible");
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  // Past the 5 px activation distance first, then to the target in steps.
  await page.mouse.move(a.x + a.width / 2 + 10, a.y + a.height / 2 + 10, { steps: 3 });
  const y = opts.toEdge === "top" ? b.y + 4 : opts.toEdge === "bottom" ? b.y + b.height - 4 : b.y + b.height / 2;
  await page.mouse.move(b.x + b.width / 2, y, { steps: 15 });
  await page.mouse.move(b.x + b.width / 2, y + 1, { steps: 2 });
  await page.mouse.up();
}

/** A screenshot for the README (docs/screenshots), without transient toasts. */
export async function shot(page: Page, name: string, opts: { fullPage?: boolean } = {}) {
  await page.addStyleTag({ content: "[data-sonner-toaster] { display: none !important; }" });
  await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: opts.fullPage });
}
