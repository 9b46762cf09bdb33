import { describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { failure } from "../testing/failures.js";
import { seedBoard, startTestApi } from "../testing/harness.js";

/**
 * Closing the API while calls are in progress: each call that had started finishes on an
 * open database (no "pool after end", nothing half-written, nothing logged), and a call
 * that arrives once closing has begun is refused as retryable before it touches anything.
 */
describe.each(testProviders)("closing the API on %s", (provider) => {
  it("lets the calls in progress finish before the database closes, and refuses new ones as retryable", async () => {
    const logged: string[] = [];
    const api = await startTestApi(provider, { log: (msg, err) => logged.push(`${msg}: ${err instanceof Error ? err.message : String(err ?? "")}`) });
    try {
      const { board, project } = await seedBoard(api);
      const member = await api.as("member", board.workspaceId);
      // Each create is several statements (a card, its position, a board event); many at once
      // are mid-way when closing begins.
      const calls = Array.from({ length: 30 }, (_, i) => member.card.create({ boardId: board.id, projectId: project.id, title: `card ${i}` }));
      await new Promise((resolve) => setImmediate(resolve));
      const closing = api.core.close();
      const late = failure(member.card.list({ boardId: board.id }));
      const settled = await Promise.allSettled(calls);
      await closing;

      const failed = settled.flatMap((s) => (s.status === "rejected" ? [String((s.reason as Error).message)] : []));
      expect(failed).toEqual([]);
      expect(logged).toEqual([]);
      expect(await late).toMatchObject({ code: "SERVICE_UNAVAILABLE", reason: "RETRYABLE" });
    } finally {
      await api.db.drop();
    }
  });
});
