import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";

/** The aborted panel shows when the run was aborted, not when it had finished. */
describe.each(testProviders)("run.byId abortedAt on %s", (provider) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(provider);
  });
  afterAll(() => api.close());

  it("is the abort's time, while finishedAt stays when the run ended", async () => {
    const seed = await seedBoard(api);
    const run = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    expect((await api.admin.run.byId({ runId: run.id })).abortedAt).toBeNull();
    await api.admin.run.cancel({ runId: run.id });
    // It ended an hour ago; it is aborted now.
    const ended = new Date(Date.now() - 3_600_000);
    await api.core.deps.db.prisma.run.update({ where: { id: run.id }, data: { finishedAt: ended } });
    const before = Date.now();
    await api.admin.run.abort({ runId: run.id, reason: "not needed" });
    const aborted = await api.admin.run.byId({ runId: run.id });
    expect(aborted.status).toBe("aborted");
    expect(aborted.finishedAt).toEqual(ended);
    expect(aborted.abortedAt).not.toBeNull();
    expect(aborted.abortedAt!.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(aborted.abortedAt!.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
  });
});
