import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiCore, type ApiCore } from "../core.js";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";

/**
 * Two API replicas on one PostgreSQL database: a revoked token and an ended session stop
 * working on the other replica at once, not after a cache's lifetime (runner tokens are
 * cached for 5 s; a revocation clears every replica's cache through NOTIFY).
 */
describe("revocation across replicas on postgresql", () => {
  let api: TestApi;
  let other: ApiCore;
  let seed: Awaited<ReturnType<typeof seedBoard>>;

  beforeAll(async () => {
    api = await startTestApi("postgresql");
    // Same database and data directory (so the same cookie secret), another process's caches.
    other = await createApiCore({ database: api.db.config, dataDir: api.db.dir, reaperEveryMs: 0, log: () => undefined });
    seed = await seedBoard(api);
  });
  afterAll(async () => {
    await other.close();
    await api.close();
  });

  const principalOn = async (core: ApiCore, opts: { authorization?: string; cookie?: string }) => (await core.createContext(opts)).principal;

  it("a revoked runner token is refused by the other replica well within its cache's lifetime", async () => {
    const { token } = await api.admin.token.create({ workspaceId: seed.workspace.id, role: "runner", name: "far-away" });
    const authorization = `Bearer ${token}`;
    // The other replica has it cached now.
    expect(await principalOn(other, { authorization })).not.toBeNull();
    const id = (await api.admin.token.list({ workspaceId: seed.workspace.id })).find((t) => t.name === "far-away")!.id;
    const revokedAt = Date.now();
    await api.admin.token.revoke({ tokenId: id });
    let refusedAfter = -1;
    while (Date.now() - revokedAt < 4_000) {
      if ((await principalOn(other, { authorization })) === null) {
        refusedAfter = Date.now() - revokedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(refusedAfter).toBeGreaterThanOrEqual(0);
    expect(refusedAfter).toBeLessThan(1_000);
  });

  it("signing out everywhere on one replica ends the session on the other at once", async () => {
    const { cookie } = await api.person("rita@replica.test", { [seed.workspace.id]: "member" });
    expect(await principalOn(other, { cookie })).not.toBeNull();
    await api.core.accounts.auth.api.revokeSessions({ headers: new Headers({ cookie }) });
    expect(await principalOn(other, { cookie })).toBeNull();
  });
});
