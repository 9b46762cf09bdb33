import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import Provider from "oidc-provider";
import { createAgentboardClient } from "@agentboard/client";
import { startWebServer } from "./support/processes";
import { seedWorkspace } from "./support/api";
import { shot } from "./support/ui";

/**
 * Single sign-on in the browser: the board configured by environment with a real OpenID
 * Connect provider (the `oidc-provider` package and its development login pages) running
 * in this test on 127.0.0.1. The person signs in there from the board's login page, comes
 * back with a session and no workspace, and joins one through an invitation.
 */
test("sign in through the local OIDC provider, then join a workspace by invitation", async ({ browser }) => {
  let idp: Provider | null = null;
  const idpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!idp) return void res.writeHead(503).end();
    void idp.callback()(req, res);
  });
  await new Promise<void>((resolve) => idpServer.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(idpServer.address() as AddressInfo).port}`;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const adminToken = `e2e-oidc-${Date.now()}-token`;
  const boardUrl = `http://127.0.0.1:${port}`;
  idp = new Provider(issuer, {
    clients: [
      {
        client_id: "agentboard-e2e",
        client_secret: "an-e2e-client-secret-of-some-length",
        redirect_uris: [`${boardUrl}/api/auth/callback/oidc`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    async findAccount(_ctx, sub) {
      return { accountId: sub, claims: async () => ({ sub, email: `${sub}@idp.test`, email_verified: true, name: `Person ${sub}` }) };
    },
    features: { devInteractions: { enabled: true } },
  });
  const server = await startWebServer({
    port,
    adminToken,
    dataDir: mkdtempSync(join(tmpdir(), "agentboard-e2e-oidc-")),
    env: {
      AGENTBOARD_PUBLIC_URL: boardUrl,
      AGENTBOARD_OIDC_ISSUER: issuer,
      AGENTBOARD_OIDC_CLIENT_ID: "agentboard-e2e",
      AGENTBOARD_OIDC_CLIENT_SECRET: "an-e2e-client-secret-of-some-length",
      AGENTBOARD_OIDC_NAME: "Team SSO",
    },
  });
  try {
    const client = createAgentboardClient({ url: server.url, token: adminToken });
    const { workspace } = await seedWorkspace(client);

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/login`);
    await page.getByRole("button", { name: "Continue with Team SSO" }).click();
    // The provider's own login page, on its own origin.
    await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
    await page.locator('input[name="login"]').fill("olivia");
    await page.locator('input[name="password"]').fill("anything");
    await page.getByRole("button", { name: /sign-in/i }).click();
    if (page.url().startsWith(issuer)) await page.getByRole("button", { name: /continue/i }).click();

    // Back on the board with a session, in no workspace yet.
    await expect(page.getByTestId("whoami")).toContainText("olivia@idp.test");
    expect(new URL(page.url()).origin).toBe(server.url);
    await expect(page.getByText(workspace.name)).toHaveCount(0);
    const cookie = (await context.cookies(server.url)).find((c) => c.name.endsWith("session_token"));
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });

    // An admin invites them; signed in, they join with a click and see the workspace.
    const invitation = await client.invitation.create.mutate({ workspaceId: workspace.id, role: "member" });
    await page.goto(`${server.url}${invitation.path}`);
    await expect(page.getByTestId("invitation")).toContainText("as member");
    await page.getByRole("button", { name: /^Join as/ }).click();
    await expect(page.getByRole("heading", { name: "Boards", level: 1 })).toBeVisible();
    await expect(page.getByText(workspace.name)).toBeVisible();
    await shot(page, "oidc-member");
    const members = await client.member.list.query({ workspaceId: workspace.id });
    expect(members.find((m) => m.email === "olivia@idp.test")).toMatchObject({ role: "member" });
    await context.close();
  } finally {
    await server.stop();
    idpServer.closeAllConnections();
    await new Promise<void>((resolve) => idpServer.close(() => resolve()));
  }
});
