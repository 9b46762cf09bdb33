import { test, type Locator } from "@playwright/test";

/**
 * The 95th-percentile frame time while a scrolled list moves every frame: 150 px down a
 * frame ("scroll"), or between a quarter and three quarters of its height ("jump", the
 * worst case for a list that renders only what is on screen).
 */
export function p95FrameMs(scroller: Locator, mode: "scroll" | "jump"): Promise<number> {
  return scroller.evaluate(async (el, m) => {
    el.scrollTop = 0;
    await new Promise((r) => requestAnimationFrame(r));
    const times: number[] = [];
    let last = performance.now();
    for (let i = 0; i < 90; i++) {
      el.scrollTop = m === "scroll" ? i * 150 : (i % 2 ? 0.25 : 0.75) * el.scrollHeight;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    times.sort((x, y) => x - y);
    return times[Math.floor(times.length * 0.95)]!;
  }, mode);
}

/** A figure for the report and the console; printed, never asserted. */
export function reportPerf(description: string): void {
  test.info().annotations.push({ type: "perf", description });
  console.log(`[perf] ${description}`);
}
