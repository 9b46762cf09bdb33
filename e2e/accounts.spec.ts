import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { createAgentboardClient } from "@agentboard/client";
import { startWebServer } from "./support/processes";
import { seedWorkspace } from "./support/api";
import { shot } from "./support/ui";

/**
 * A team from the first start: the setup link makes the first admin, who invites a member
 * by link; the member signs up, sees only that workspace, and the UI offers what the role
 * allows (and the server refuses the rest). Its own server: the setup link exists only on
 * a fresh database.
 */
test("setup link → first admin → invitation → member signs up → roles enforced", async ({ browser }) => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const adminToken = `e2e-accounts-${Date.now()}-token`;
  const server = await startWebServer({ port, dataDir: mkdtempSync(join(tmpdir(), "agentboard-e2e-accounts-")), adminToken });
  try {
    const printed = () => /create the first admin account \(one-time link\): (\S+)/.exec(server.output())?.[1] ?? "";
    await expect.poll(printed, { timeout: 15_000 }).not.toBe("");
    const link = printed();
    expect(link).toMatch(/\/setup#code=setup_/);
    // Automation keeps its token: a workspace the admin will find.
    const client = createAgentboardClient({ url: server.url, token: adminToken });
    const { workspace } = await seedWorkspace(client);
    const other = await seedWorkspace(client);

    const adminContext = await browser.newContext();
    const admin = await adminContext.newPage();
    await admin.goto(link);
    await admin.getByLabel("Name").fill("Ada Admin");
    await admin.getByLabel("Email").fill("ada@team.test");
    await admin.getByLabel("Password", { exact: true }).fill("correct horse battery");
    await admin.getByLabel("Password again").fill("correct horse battery");
    await admin.getByRole("button", { name: "Create admin account" }).click();
    await expect(admin.getByRole("heading", { name: "Boards", level: 1 })).toBeVisible();
    await expect(admin.getByTestId("whoami")).toContainText("ada@team.test");

    // Invite a member by link.
    await admin.goto(`${server.url}/members?workspace=${workspace.id}`);
    await admin.getByLabel("Role", { exact: true }).selectOption("member");
    await admin.getByRole("button", { name: "Create invitation link" }).click();
    const invite = await admin.getByTestId("invitation-link").inputValue();
    expect(invite).toContain("/invite#code=inv_");
    await shot(admin, "members-invite");

    // The member signs up from the link, in another browser.
    const memberContext = await browser.newContext();
    const member = await memberContext.newPage();
    await member.goto(invite);
    await expect(member.getByTestId("invitation")).toContainText("as member");
    await member.getByLabel("Name").fill("Max Member");
    await member.getByLabel("Email").fill("max@team.test");
    await member.getByLabel("Password", { exact: true }).fill("another good passphrase");
    await member.getByLabel("Password again").fill("another good passphrase");
    await member.getByRole("button", { name: "Create account and join" }).click();
    await expect(member.getByRole("heading", { name: "Boards", level: 1 })).toBeVisible();
    // Only that workspace.
    await expect(member.getByText(workspace.name)).toBeVisible();
    await expect(member.getByText(other.workspace.name)).toHaveCount(0);
    // A member manages nothing on the members page, and cannot use the link again.
    await member.goto(`${server.url}/members?workspace=${workspace.id}`);
    await expect(member.getByTestId("member-max@team.test")).toContainText("member");
    await expect(member.getByRole("button", { name: "Create invitation link" })).toHaveCount(0);
    await expect(member.getByRole("button", { name: "Remove" })).toHaveCount(0);

    // The admin makes them a viewer; the board then offers no new card.
    await admin.reload();
    await admin.getByLabel("Role of max@team.test").selectOption("viewer");
    await expect(admin.getByLabel("Role of max@team.test")).toHaveValue("viewer");
    await member.goto(`${server.url}/`);
    await member.getByRole("link", { name: "Product" }).first().click();
    await expect(member.getByRole("heading", { level: 1 })).toBeVisible();
    await expect(member.getByRole("button", { name: "+ Add card" })).toHaveCount(0);
    await shot(member, "viewer-board");

    // Signing out ends the session: the board is behind the sign-in page again.
    await member.getByRole("button", { name: "Sign out" }).click();
    await expect(member).toHaveURL(/\/login/);
    await adminContext.close();
    await memberContext.close();
  } finally {
    await server.stop();
  }
});
