import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";

/** run.eventsPage: a long run's log read from its end, one page at a time. */
describe.each(testProviders)("run.eventsPage on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let runId: string;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    const run = await api.admin.run.create({ cardId: seed.card.id, engine: "command", command: "true" });
    runId = run.id;
    const claim = await api.admin.run.claim({ workspaceId: seed.workspace.id, runId });
    await api.admin.run.start({ runId, leaseToken: claim!.leaseToken });
    // queued, claimed, started, then 250 of the agent's.
    for (let i = 0; i < 250; i += 50) {
      await api.admin.run.appendEvents({
        runId,
        leaseToken: claim!.leaseToken,
        events: Array.from({ length: 50 }, (_, j) => ({ type: (i + j) % 10 === 0 ? "tool.call" : "agent.message", payload: { n: i + j } })),
      });
    }
  });
  afterAll(() => api.close());

  it("pages from the latest event back to the first, each event once, latest first", async () => {
    const seen: number[] = [];
    let page = await api.admin.run.eventsPage({ runId, limit: 100 });
    expect(page.lastSeq).toBe(253);
    expect(page.events[0]!.seq).toBe(253);
    for (;;) {
      seen.push(...page.events.map((e) => e.seq));
      if (page.older === null) break;
      expect(page.older).toBe(page.events.at(-1)!.seq);
      page = await api.admin.run.eventsPage({ runId, limit: 100, beforeSeq: page.older });
    }
    expect(seen).toEqual(Array.from({ length: 253 }, (_, i) => 253 - i));
    // Exactly a page's worth left: no empty page after it.
    const last = await api.admin.run.eventsPage({ runId, limit: 3, beforeSeq: 4 });
    expect(last).toMatchObject({ older: null, events: [{ seq: 3 }, { seq: 2 }, { seq: 1 }] });
  });

  it("filters by type and by type prefix", async () => {
    const status = await api.admin.run.eventsPage({ runId, types: ["run.*"] });
    expect(status.events.map((e) => e.type)).toEqual(["run.started", "run.claimed", "run.queued"]);
    const tools = await api.admin.run.eventsPage({ runId, types: ["tool.call", "run.queued"], limit: 500 });
    expect(tools.events).toHaveLength(26);
    expect(tools.events.every((e) => e.type === "tool.call" || e.type === "run.queued")).toBe(true);
  });

  it("validates its input and is readable only where the run is", async () => {
    const bad = async (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: unknown) => (e instanceof TRPCError ? e.code : "other"),
      );
    expect(await bad(api.admin.run.eventsPage({ runId, limit: 0 }))).toBe("BAD_REQUEST");
    expect(await bad(api.admin.run.eventsPage({ runId, limit: 501 }))).toBe("BAD_REQUEST");
    expect(await bad(api.admin.run.eventsPage({ runId, types: ["Run; drop"] }))).toBe("BAD_REQUEST");
    const other = await seedBoard(api, "other");
    const outsider = await api.as("member", other.workspace.id);
    expect(await bad(outsider.run.eventsPage({ runId }))).toBe("NOT_FOUND");
    expect(await bad(api.anonymous.run.eventsPage({ runId }))).toBe("UNAUTHORIZED");
    const viewer = await api.as("viewer", seed.workspace.id);
    expect((await viewer.run.eventsPage({ runId, limit: 1 })).events).toHaveLength(1);
  });
});
