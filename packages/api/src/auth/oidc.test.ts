import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Provider from "oidc-provider";
import superjson from "superjson";
import { testProviders } from "@agentboard/testkit";
import { startTestApi, type TestApi } from "../testing/harness.js";
import { listenApi } from "../http/handler.js";
import { readAnswer } from "../testing/http-calls.js";

/**
 * Single sign-on against a real OpenID Connect provider (the `oidc-provider` package, with
 * its development login and consent pages) running on this machine: the board is
 * configured with its issuer, client id and secret only, finds the rest by discovery, and
 * a person who signs in there gets a board session.
 */

/** Follows a browser's way through redirects and forms, keeping cookies (per name, as a browser on one host would). */
class Browser {
  private readonly cookies = new Map<string, string>();
  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  private keep(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, redirect: "manual", headers: { ...(init.headers as Record<string, string>), cookie: this.cookieHeader() } });
    this.keep(res);
    return res;
  }
  /** GETs and follows redirects until a page answers. */
  async follow(url: string): Promise<{ url: string; res: Response }> {
    let at = url;
    for (let hops = 0; hops < 20; hops++) {
      const res = await this.request(at);
      const location = res.headers.get("location");
      if (res.status < 300 || res.status >= 400 || !location) return { url: at, res };
      at = new URL(location, at).toString();
    }
    throw new Error("too many redirects");
  }
  async submit(pageUrl: string, html: string, fields: Record<string, string>): Promise<{ url: string; res: Response }> {
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form on ${pageUrl}: ${html.slice(0, 300)}`);
    const target = new URL(action.replace(/&amp;/g, "&"), pageUrl).toString();
    const res = await this.request(target, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(pageUrl).origin },
      body: new URLSearchParams(fields).toString(),
    });
    const location = res.headers.get("location");
    return location ? this.follow(new URL(location, target).toString()) : { url: target, res };
  }
}

describe.each(testProviders)("OIDC sign-in on %s", (provider) => {
  let api: TestApi;
  let board: Awaited<ReturnType<typeof listenApi>>;
  let idp: Provider | null = null;
  const idpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!idp) return void res.writeHead(503).end();
    void idp.callback()(req, res);
  });
  let issuer = "";

  beforeAll(async () => {
    await new Promise<void>((resolve) => idpServer.listen(0, "127.0.0.1", resolve));
    issuer = `http://127.0.0.1:${(idpServer.address() as AddressInfo).port}`;
    api = await startTestApi(provider, {
      accounts: { oidc: { issuer, clientId: "agentboard", clientSecret: "a-client-secret-of-some-length", name: "Team SSO" } },
    });
    board = await listenApi(api.core);
    idp = new Provider(issuer, {
      clients: [
        {
          client_id: "agentboard",
          client_secret: "a-client-secret-of-some-length",
          redirect_uris: [`${board.url}/api/auth/callback/oidc`],
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
  });
  afterAll(async () => {
    await board.close();
    await api.close();
    idpServer.closeAllConnections();
    await new Promise<void>((resolve) => idpServer.close(() => resolve()));
  });

  it("a person signs in at the provider and gets a board session; an invitation then gives them a workspace", async () => {
    const providers = (await (await fetch(`${board.url}/api/account/providers`)).json()) as { oidc: { providerId: string; name: string } | null };
    expect(providers.oidc).toEqual({ providerId: "oidc", name: "Team SSO" });

    const browser = new Browser();
    const start = await browser.request(`${board.url}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: board.url },
      body: JSON.stringify({ provider: "oidc", callbackURL: "/" }),
    });
    expect(start.status).toBe(200);
    const { url } = (await start.json()) as { url: string };
    expect(url.startsWith(`${issuer}/auth?`)).toBe(true);

    const login = await browser.follow(url);
    expect(login.url).toContain("/interaction/");
    const consent = await browser.submit(login.url, await login.res.text(), { prompt: "login", login: "olivia", password: "anything" });
    const back = consent.url.includes("/interaction/") ? await browser.submit(consent.url, await consent.res.text(), { prompt: "consent" }) : consent;
    // Back on the board: the callback set the session and sent the browser home.
    expect(new URL(back.url).origin).toBe(board.url);

    const body = JSON.stringify(superjson.serialize(undefined));
    const whoami = await fetch(`${board.url}/api/trpc/token.whoami?input=${encodeURIComponent(body)}`, { headers: { cookie: browser.cookieHeader() } });
    const me = readAnswer(whoami.status, await whoami.text());
    expect(me.data).toMatchObject({ kind: "session", name: "olivia@idp.test", serverAdmin: false, roles: {} });
    // Signed in, but in no workspace until invited.
    const ws = await api.admin.workspace.create({ name: "SSO team", slug: "sso-team" });
    const invitation = await api.admin.invitation.create({ workspaceId: ws.id, role: "viewer" });
    const olivia = api.core.callerFor((await api.core.createContext({ cookie: browser.cookieHeader() })).principal);
    expect(await olivia.workspace.list()).toEqual([]);
    await olivia.invitation.accept({ code: invitation.code });
    expect((await olivia.token.whoami()).roles).toEqual({});
    const again = api.core.callerFor((await api.core.createContext({ cookie: browser.cookieHeader() })).principal);
    expect((await again.token.whoami()).roles).toEqual({ [ws.id]: "viewer" });
    const account = await api.core.deps.db.prisma.account.findFirst({ where: { providerId: "oidc", user: { email: "olivia@idp.test" } } });
    expect(account?.accountId).toBe("olivia");
  });
});
