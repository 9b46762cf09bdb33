import { expect, test } from "@playwright/test";
import { E2E } from "./support/env";
import { shot } from "./support/ui";

/** The REST reference page: rendered from /api/v1/openapi.json by the bundled Swagger UI, offline. */
test("the API reference renders the OpenAPI document with nothing loaded from another host", async ({ page }) => {
  const foreign: string[] = [];
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (url.origin !== E2E.baseURL && url.protocol !== "data:") foreign.push(req.url());
  });
  await page.goto("/api-docs");
  await expect(page.getByRole("heading", { name: /agentboard REST API/ })).toBeVisible();
  const claim = page.locator(".opblock-post").filter({ hasText: "/runs/claim" });
  await expect(claim).toBeVisible();
  await claim.locator(".opblock-summary").click();
  await expect(claim).toContainText("waitMs");
  await shot(page, "api-reference");
  expect(foreign).toEqual([]);
});
