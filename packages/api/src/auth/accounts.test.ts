import { afterAll, beforeAll, describe, expect, it } from "vitest";
import superjson from "superjson";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";
import { listenApi } from "../http/handler.js";
import { readAnswer } from "../testing/http-calls.js";
import { ensureSetupCode } from "../services/members.js";

/** People's accounts over real HTTP: setup link, sign-in, cookies, CSRF, rate limit, sign-out everywhere. */

type Http = Awaited<ReturnType<typeof listenApi>>;

function cookieOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

describe.each(testProviders)("accounts on %s", (provider) => {
  let api: TestApi;
  let http: Http;
  let a: Awaited<ReturnType<typeof seedBoard>>;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${http.url}${path}`, { method: "POST", headers: { "content-type": "application/json", origin: http.url, ...headers }, body: JSON.stringify(body) });
  const trpc = async (path: string, type: "query" | "mutation", input: unknown, headers: Record<string, string>) => {
    const body = JSON.stringify(superjson.serialize(input));
    const res =
      type === "mutation"
        ? await fetch(`${http.url}/api/trpc/${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body })
        : await fetch(`${http.url}/api/trpc/${path}?input=${encodeURIComponent(body)}`, { headers });
    return readAnswer(res.status, await res.text());
  };

  beforeAll(async () => {
    api = await startTestApi(provider, { accounts: { signInPerMinute: 3 } });
    http = await listenApi(api.core);
    a = await seedBoard(api, "alpha");
  });
  afterAll(async () => {
    await http.close();
    await api.close();
  });

  it("the setup link makes the first server administrator once, and then no more links are made", async () => {
    const code = await ensureSetupCode(api.core.deps);
    expect(code).toMatch(/^setup_/);
    // A second start replaces the code: the first stops working.
    const fresh = (await ensureSetupCode(api.core.deps))!;
    const stale = await post("/api/account/sign-up", { code, name: "Ada", email: "ada@example.com", password: "a long passphrase" });
    expect(stale.status).toBe(404);
    // A browser cannot sign itself up without a link.
    const open = await post("/api/auth/sign-up/email", { name: "Eve", email: "eve@example.com", password: "a long passphrase" });
    expect(open.status).toBe(403);
    expect(await api.core.deps.db.prisma.user.count({ where: { email: "eve@example.com" } })).toBe(0);
    // Nor from another site.
    const crossSite = await post(
      "/api/account/sign-up",
      { code: fresh, name: "Ada", email: "ada@example.com", password: "a long passphrase" },
      { origin: "https://evil.example" },
    );
    expect(crossSite.status).toBe(403);
    const weak = await post("/api/account/sign-up", { code: fresh, name: "Ada", email: "ada@example.com", password: "short" });
    expect(weak.status).toBe(400);

    const ok = await post("/api/account/sign-up", { code: fresh, name: "Ada", email: "Ada@Example.com", password: "a long passphrase" });
    expect(ok.status).toBe(200);
    const cookie = cookieOf(ok);
    expect(ok.headers.getSetCookie().join("\n")).toMatch(/agentboard\.session_token=.*HttpOnly.*SameSite=Lax/i);
    const me = await trpc("token.whoami", "query", undefined, { cookie });
    expect(me.data).toMatchObject({ kind: "session", name: "ada@example.com", serverAdmin: true });
    // A server administrator sees every workspace and is admin in it.
    const list = await trpc("workspace.list", "query", undefined, { cookie });
    expect((list.data as { id: string }[]).map((w) => w.id)).toContain(a.workspace.id);
    // Used up: the link does not work twice, and no new one is made.
    expect((await post("/api/account/sign-up", { code: fresh, name: "B", email: "b@example.com", password: "a long passphrase" })).status).toBe(404);
    expect(await ensureSetupCode(api.core.deps)).toBeNull();
    // The password is stored as a hash, never as given.
    const stored = await api.core.deps.db.prisma.account.findFirst({ where: { user: { email: "ada@example.com" } } });
    expect(stored?.password).toBeTruthy();
    expect(stored?.password).not.toContain("a long passphrase");
  });

  it("a cross-site POST carrying the session cookie changes nothing", async () => {
    const ada = await post("/api/auth/sign-in/email", { email: "ada@example.com", password: "a long passphrase" });
    expect(ada.status).toBe(200);
    const cookie = cookieOf(ada);
    const before = await api.core.deps.db.prisma.board.count();
    const forged = await trpc(
      "board.create",
      "mutation",
      { workspaceId: a.workspace.id, name: "forged" },
      { cookie, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    );
    expect(forged.error?.code).toBe("UNAUTHORIZED");
    expect(await api.core.deps.db.prisma.board.count()).toBe(before);
    // The same request from the board's own page works.
    const own = await trpc(
      "board.create",
      "mutation",
      { workspaceId: a.workspace.id, name: "own" },
      { cookie, origin: http.url, "sec-fetch-site": "same-origin" },
    );
    expect(own.data).toMatchObject({ name: "own" });
    // A classic form post (text/plain, another site) does nothing either.
    const form = await fetch(`${http.url}/api/trpc/board.create`, {
      method: "POST",
      headers: { "content-type": "text/plain", cookie, origin: "https://evil.example" },
      body: JSON.stringify({ json: { workspaceId: a.workspace.id, name: "form" } }),
    });
    expect(form.status).toBeGreaterThanOrEqual(400);
    expect(await api.core.deps.db.prisma.board.count()).toBe(before + 1);
  });

  it("sign-in is rate limited per client", async () => {
    const attempts: number[] = [];
    for (let i = 0; i < 5; i++) attempts.push((await post("/api/auth/sign-in/email", { email: "ada@example.com", password: "wrong password!" })).status);
    expect(attempts.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(attempts.slice(0, 1)).toEqual([401]);
  });

  it("signing out everywhere ends every session at once", async () => {
    const { cookie } = await api.person("sam@example.com", { [a.workspace.id]: "member" });
    // A second session of the same person (another browser); this client's sign-ins are used up by the test above.
    const again = await api.core.accounts.auth.api.signInEmail({ body: { email: "sam@example.com", password: "correct horse battery" }, returnHeaders: true });
    const other = again.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    expect((await trpc("board.list", "query", { workspaceId: a.workspace.id }, { cookie: other })).data).toBeDefined();
    const out = await fetch(`${http.url}/api/auth/revoke-sessions`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, origin: http.url },
      body: "{}",
    });
    expect(out.status).toBe(200);
    expect((await trpc("board.list", "query", { workspaceId: a.workspace.id }, { cookie })).error?.code).toBe("UNAUTHORIZED");
    expect((await trpc("board.list", "query", { workspaceId: a.workspace.id }, { cookie: other })).error?.code).toBe("UNAUTHORIZED");
  });

  it("the bootstrap admin token keeps working beside accounts", async () => {
    const list = await trpc("workspace.list", "query", undefined, { authorization: `Bearer ${api.adminToken}` });
    expect((list.data as unknown[]).length).toBeGreaterThan(0);
  });
});
