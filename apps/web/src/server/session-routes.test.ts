import { once } from "node:events";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentboardClient } from "@agentboard/client";
import { createTestDatabase, type TestDatabase } from "@agentboard/testkit";
import { startApiProcess, type ApiProcess } from "./testing/api-process";

/** Browser sessions: an API token becomes an httpOnly cookie, and the cookie is the token. */
const ADMIN = "ab_test_admin_token_for_sessions_0001";

describe("session routes", () => {
  let db: TestDatabase;
  let api: ApiProcess;
  let runnerToken: string;

  beforeAll(async () => {
    db = await createTestDatabase("sqlite");
    if (db.config.provider !== "sqlite") throw new Error("expected a SQLite database");
    api = await startApiProcess({ DATABASE_URL: `file:${db.config.file}`, AGENTBOARD_DATA_DIR: db.dir, AGENTBOARD_ADMIN_TOKEN: ADMIN });
    const client = createAgentboardClient({ url: api.url, token: ADMIN });
    const ws = await client.workspace.create.mutate({ name: "S", slug: "s" });
    runnerToken = (await client.token.create.mutate({ workspaceId: ws.id, role: "runner", name: "r" })).token;
  });
  afterAll(async () => {
    await api?.stop();
    await db?.drop();
  });

  const post = (body: string, type = "application/json", headers: Record<string, string> = {}) =>
    fetch(`${api.url}/api/session`, { method: "POST", headers: { "content-type": type, ...headers }, body, redirect: "manual" });
  const cookieOf = (res: Response) => res.headers.get("set-cookie") ?? "";

  it("POST /api/session verifies the token and sets an httpOnly, SameSite=Lax cookie", async () => {
    const ok = await post(JSON.stringify({ token: ADMIN }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ name: "bootstrap", role: "admin", workspaceId: null });
    expect(cookieOf(ok)).toMatch(/^agentboard_session=ab_test_admin_token_for_sessions_0001; HttpOnly; SameSite=Lax; Path=\/; Max-Age=\d+$/);

    const bad = await post(JSON.stringify({ token: "ab_nope" }));
    expect(bad.status).toBe(401);
    expect(cookieOf(bad)).toBe("");
    expect((await post(JSON.stringify({ token: runnerToken }))).status).toBe(403);
    expect((await post("not json")).status).toBe(400);
  });

  it("a form post redirects; the old sign-in link hands its token to the login page in the fragment, without signing in", async () => {
    const form = await post(`token=${encodeURIComponent(ADMIN)}`, "application/x-www-form-urlencoded");
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toBe("/");
    expect(cookieOf(form)).toContain("agentboard_session=");

    // A GET signs no one in: the login page reads the fragment and posts it (from its own origin).
    const link = await fetch(`${api.url}/login?token=${encodeURIComponent(ADMIN)}`, { redirect: "manual" });
    expect(link.status).toBe(303);
    expect(link.headers.get("location")).toBe(`/login#token=${ADMIN}`);
    expect(cookieOf(link)).toBe("");
  });

  it("signing in and out is refused unless it comes from the board's own pages (login CSRF)", async () => {
    const token = JSON.stringify({ token: ADMIN });
    const self = new URL(api.url).origin;
    const refused: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { origin: self, "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "none" },
    ];
    for (const headers of refused) {
      const res = await post(token, "application/json", headers);
      expect({ headers, status: res.status, cookie: cookieOf(res) }).toEqual({ headers, status: 403, cookie: "" });
      const form = await post(`token=${encodeURIComponent(ADMIN)}`, "application/x-www-form-urlencoded", headers);
      expect({ headers, status: form.status, cookie: cookieOf(form) }).toEqual({ headers, status: 403, cookie: "" });
      const out = await fetch(`${api.url}/api/session`, { method: "DELETE", headers });
      expect({ headers, status: out.status }).toEqual({ headers, status: 403 });
    }
    const allowed: Record<string, string>[] = [{ origin: self }, { origin: self, "sec-fetch-site": "same-origin" }, {}];
    for (const headers of allowed) {
      expect({ headers, status: (await post(token, "application/json", headers)).status }).toEqual({ headers, status: 200 });
    }
  });

  it("the cookie authenticates API calls, but not a state change sent from another site", async () => {
    const cookie = `agentboard_session=${ADMIN}`;
    const whoami = await fetch(`${api.url}/api/trpc/token.whoami`, { headers: { cookie } });
    expect(whoami.status).toBe(200);

    const body = JSON.stringify({ json: { name: "X", slug: "x-from-cookie" } });
    const host = new URL(api.url).host;
    const same = await fetch(`${api.url}/api/trpc/workspace.create`, {
      method: "POST",
      headers: { cookie, origin: api.url, host, "content-type": "application/json" },
      body,
    });
    expect(same.status).toBe(200);
    const cross = await fetch(`${api.url}/api/trpc/workspace.create`, {
      method: "POST",
      headers: { cookie, origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ json: { name: "Y", slug: "y-from-elsewhere" } }),
    });
    expect(cross.status).toBe(401);
    // Origin: null is no origin of ours either (sandboxed frames, data: URLs).
    const opaque = await fetch(`${api.url}/api/trpc/workspace.create`, {
      method: "POST",
      headers: { cookie, origin: "null", "content-type": "application/json" },
      body: JSON.stringify({ json: { name: "Z", slug: "z-from-nowhere" } }),
    });
    expect(opaque.status).toBe(401);
  });

  it("every answer carries the security headers; a method nothing serves answers 405", async () => {
    const answers = await Promise.all([
      fetch(`${api.url}/api/health`),
      fetch(`${api.url}/api/trpc/token.whoami`),
      fetch(`${api.url}/api/session`, { method: "POST", body: "{}", headers: { origin: "https://evil.example" } }),
      fetch(`${api.url}/login?token=x`, { redirect: "manual" }),
    ]);
    for (const res of answers) {
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
    }
    const trace = await rawStatusLine(api.url, "TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(trace).toBe("HTTP/1.1 405 Method Not Allowed");
  });

  it("DELETE /api/session clears the cookie", async () => {
    const res = await fetch(`${api.url}/api/session`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(cookieOf(res)).toMatch(/^agentboard_session=; .*Max-Age=0/);
  });
});

/** The status line answering a request written by hand (fetch cannot send TRACE). */
async function rawStatusLine(url: string, request: string): Promise<string> {
  const socket = connect(Number(new URL(url).port), "127.0.0.1");
  socket.setEncoding("utf8");
  socket.write(request);
  let text = "";
  while (!text.includes("\r\n")) text += ((await once(socket, "data")) as [string])[0];
  socket.destroy();
  return text.split("\r\n")[0]!;
}
