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

  const post = (body: string, type = "application/json") =>
    fetch(`${api.url}/api/session`, { method: "POST", headers: { "content-type": type }, body, redirect: "manual" });
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

  it("a form post and the sign-in link redirect, with the token out of the address bar", async () => {
    const form = await post(`token=${encodeURIComponent(ADMIN)}`, "application/x-www-form-urlencoded");
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toBe("/");
    expect(cookieOf(form)).toContain("agentboard_session=");

    const link = await fetch(`${api.url}/login?token=${encodeURIComponent(ADMIN)}`, { redirect: "manual" });
    expect(link.status).toBe(303);
    expect(link.headers.get("location")).toBe("/");
    expect(cookieOf(link)).toContain("HttpOnly");

    const wrong = await fetch(`${api.url}/login?token=ab_wrong`, { redirect: "manual" });
    expect(wrong.headers.get("location")).toBe("/login?error=invalid");
    const runner = await fetch(`${api.url}/login?token=${runnerToken}`, { redirect: "manual" });
    expect(runner.headers.get("location")).toBe("/login?error=runner");
  });

  it("the cookie authenticates API calls, but not a state change sent from another site", async () => {
    const cookie = `agentboard_session=${ADMIN}`;
    const whoami = await fetch(`${api.url}/api/trpc/token.whoami`, { headers: { cookie } });
    expect(whoami.status).toBe(200);

    const body = JSON.stringify({ json: { name: "X", slug: "x-from-cookie" } });
    const host = new URL(api.url).host;
    const same = await fetch(`${api.url}/api/trpc/workspace.create`, { method: "POST", headers: { cookie, origin: api.url, host, "content-type": "application/json" }, body });
    expect(same.status).toBe(200);
    const cross = await fetch(`${api.url}/api/trpc/workspace.create`, {
      method: "POST",
      headers: { cookie, origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ json: { name: "Y", slug: "y-from-elsewhere" } }),
    });
    expect(cross.status).toBe(401);
  });

  it("DELETE /api/session clears the cookie", async () => {
    const res = await fetch(`${api.url}/api/session`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(cookieOf(res)).toMatch(/^agentboard_session=; .*Max-Age=0/);
  });
});
