import { describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { runSoak } from "./support/soak.js";

/**
 * `npm run bench:soak`, small: a few runs appending steadily, followers that read and
 * followers that never read (dropped after a short stall bound, then back). Only
 * correctness is asserted — no error, nothing missing or doubled, the stalled followers
 * dropped, the server's memory back near its start; the figures are the bench's.
 */
describe.each(testProviders)("soak on %s", (provider) => {
  it("streams every event once to every reader while others never read, and gives the memory back", async () => {
    const r = await runSoak({
      provider,
      boards: 2,
      runsPerBoard: 2,
      eventsPerSecond: 20,
      runFollowers: 2,
      boardFollowers: 2,
      stalled: 8,
      seconds: 8,
      historyBytes: 8 * 1024 * 1024,
      stallMs: 500,
      // V8 gives the heap back once the server has idled a while (10–25 s here): the watch ends
      // when the RSS is within 50 MB of the start, or after 45 s.
      settleSeconds: 45,
      settleWithinMb: 50,
    });
    console.log(
      `[soak ${provider}] server RSS ${r.rss.startMb.toFixed(1)} → ${r.rss.endMb.toFixed(1)} MB ${(r.rss.settledMs / 1000).toFixed(1)} s after the subscribers left`,
    );
    expect(r.errors).toEqual([]);
    expect(r.missing).toBe(0);
    expect(r.duplicates).toBe(0);
    expect(r.appended).toBeGreaterThan(0);
    expect(r.drops).toBeGreaterThan(0);
    // Stalled followers replayed 8 MB runs over and over: without backpressure that is tens of MB queued.
    expect(r.rss.endMb - r.rss.startMb).toBeLessThan(60);
  }, 180_000);
});
