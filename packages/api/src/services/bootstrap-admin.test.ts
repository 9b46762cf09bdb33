import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { startTestApi, type TestApi } from "../testing/harness.js";
import { ensureBootstrapAdmin, TokenCache } from "./tokens.js";

/**
 * The bootstrap admin token is a token like the others: listed, revocable, and rotated when
 * AGENTBOARD_ADMIN_TOKEN changes. Each `ensureBootstrapAdmin` call is what a server start does.
 */
describe.each(testProviders)("the bootstrap admin token on %s", (provider) => {
  let api: TestApi;
  const answers = (token: string) => new TokenCache().resolve(api.core.deps, token);

  beforeAll(async () => {
    api = await startTestApi(provider);
  });
  afterAll(() => api.close());

  it("is listed among the server's tokens and can be revoked", async () => {
    const server = await api.admin.token.list({});
    expect(server).toEqual([expect.objectContaining({ name: "bootstrap", role: "admin", workspaceId: null, revokedAt: null })]);
    const ws = await api.admin.workspace.create({ name: "W", slug: "w" });
    const wsAdmin = await api.as("admin", ws.id);
    // Not a workspace admin's to see or end.
    await expect(wsAdmin.token.list({})).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(wsAdmin.token.revoke({ tokenId: server[0]!.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("rotates when the variable changes: the old token stops answering, the new one is printed once", async () => {
    const first = "first-admin-token-0123456789";
    const second = "second-admin-token-0123456789";
    expect(await ensureBootstrapAdmin(api.core.deps, { envToken: first, dataDir: api.db.dir })).toMatchObject({ created: true, file: undefined });
    // A restart with the same variable makes nothing new and prints nothing.
    expect(await ensureBootstrapAdmin(api.core.deps, { envToken: first, dataDir: api.db.dir })).toMatchObject({ created: false, revoked: 0 });
    expect(await answers(first)).toMatchObject({ role: "admin", workspaceId: null });

    expect(await ensureBootstrapAdmin(api.core.deps, { envToken: second, dataDir: api.db.dir })).toMatchObject({ created: true, revoked: 1 });
    expect(await answers(first)).toBeNull();
    expect(await answers(second)).toMatchObject({ role: "admin", workspaceId: null });
    const listed = await (await callerFor(second)).token.list({});
    expect(listed.filter((t) => t.revokedAt === null).map((t) => t.prefix)).toEqual([second.slice(0, 10)]);
  });

  it("a revoked variable stops the server with a clear message; a revoked file token is replaced", async () => {
    const envToken = "third-admin-token-0123456789";
    await ensureBootstrapAdmin(api.core.deps, { envToken, dataDir: api.db.dir });
    const me = await callerFor(envToken);
    const row = (await me.token.list({})).find((t) => t.revokedAt === null)!;
    await me.token.revoke({ tokenId: row.id });
    await expect(ensureBootstrapAdmin(api.core.deps, { envToken, dataDir: api.db.dir })).rejects.toThrow(/AGENTBOARD_ADMIN_TOKEN was revoked/);

    // Without the variable the token lives in the data directory.
    const fromFile = await ensureBootstrapAdmin(api.core.deps, { dataDir: api.db.dir });
    const kept = readFileSync(join(api.db.dir, "admin-token"), "utf8").trim();
    expect(fromFile.token).toBe(kept);
    const fileRow = (await (await callerFor(kept)).token.list({})).find((t) => t.revokedAt === null)!;
    await (await callerFor(kept)).token.revoke({ tokenId: fileRow.id });
    const replaced = await ensureBootstrapAdmin(api.core.deps, { dataDir: api.db.dir });
    expect(replaced.created).toBe(true);
    expect(replaced.token).not.toBe(kept);
    expect(readFileSync(join(api.db.dir, "admin-token"), "utf8").trim()).toBe(replaced.token);
    expect(await answers(replaced.token)).toMatchObject({ role: "admin" });
  });

  async function callerFor(token: string) {
    return api.core.callerFor(await answers(token));
  }
});
