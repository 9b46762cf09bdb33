import { expect, type Locator, test } from "@playwright/test";
import type { RouterInputs } from "@agentboard/client";
import { adminClient, seedWorkspace } from "./support/api";
import { p95FrameMs, reportPerf } from "./support/perf";
import { signIn } from "./support/ui";

/**
 * A long agent run: 5,000 events (messages, tool calls with results, command output,
 * thinking) written the way a runner writes them, then the run page. The log must show the
 * latest first, read older ones back to the first on demand, each once, stay smooth to
 * scroll, and keep following live. Timings are printed, not asserted (a noisy machine must
 * not fail the suite); what is asserted is what a user sees.
 */
const EVENTS = 5_000;

// A trace snapshots the whole page at every step: with thousands of rows that is the
// harness's own work, and it would be what the figures measure.
test.use({ trace: "off" });

type NewEvent = RouterInputs["run"]["appendEvents"]["events"][number];

function eventAt(i: number): NewEvent {
  const turn = Math.floor(i / 5);
  switch (i % 5) {
    case 0:
      return { type: "agent.message", payload: { role: "assistant", text: `Turn ${turn}: looking at the next file and what it needs.` } };
    case 1:
      return { type: "tool.call", payload: { id: `t${turn}`, name: "read_file", input: { path: `src/module-${turn}.ts` } } };
    case 2:
      return { type: "tool.result", payload: { id: `t${turn}`, output: `export const value${turn} = ${turn};\n`.repeat(3) } };
    case 3:
      return { type: "command.output", payload: { stream: "stdout", text: `test ${turn} passed\n` } };
    default:
      return { type: "agent.thinking", payload: { text: `Thinking about turn ${turn}.` } };
  }
}

/**
 * The row with this text is on screen: the log scrolled to it inside its box, and the box
 * scrolled into the window (again on each try: the panels above the log load on their own
 * and may push it down after the first scroll).
 */
async function expectShown(log: Locator, text: string) {
  await expect(async () => {
    await log.evaluate((el) => el.scrollIntoView({ block: "end" }));
    await expect(log.getByText(text)).toBeInViewport({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
}

test("a run of 5,000 events: the log shows the latest, reads older ones on demand, scrolls smoothly and keeps following", async ({ page }) => {
  test.setTimeout(180_000);
  const api = adminClient();
  const { workspace, board, project } = await seedWorkspace(api);
  const card = await api.card.create.mutate({ boardId: board.id, projectId: project.id, title: "A long agent run", column: "todo" });
  const run = await api.run.create.mutate({ cardId: card.id, engine: "command", command: "true" });
  // The admin token may act as a runner: claim, start and report like one.
  const claim = await api.run.claim.mutate({ workspaceId: workspace.id, runId: run.id });
  const lease = { runId: run.id, leaseToken: claim!.leaseToken };
  await api.run.start.mutate(lease);
  for (let i = 0; i < EVENTS; i += 500) {
    await api.run.appendEvents.mutate({ ...lease, events: Array.from({ length: 500 }, (_, j) => eventAt(i + j)) });
  }
  const total = EVENTS + 3; // queued, claimed, started

  await signIn(page);
  const started = Date.now();
  await page.goto(`/runs/${run.id}`);
  const log = page.getByTestId("event-log");
  // Measured by plain reads: with thousands of rows in the page, the locator assertions of
  // Playwright (toHaveAttribute) take seconds a poll, which is the harness's time, not the
  // page's.
  while ((await log.getAttribute("data-last-seq").catch(() => null)) !== String(total)) {
    if (Date.now() - started > 60_000) throw new Error(`the log's last event is ${await log.getAttribute("data-last-seq")} of ${total} after 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const loadMs = Date.now() - started;
  // The latest page only, not the whole run.
  expect(Number(await log.getAttribute("data-count"))).toBeLessThan(total);
  expect(await log.getAttribute("data-duplicates")).toBe("0");
  expect(await log.getAttribute("data-gaps")).toBe("0");
  // Following: the newest item is on screen.
  await expectShown(log, `test ${EVENTS / 5 - 1} passed`);
  const rendered = await log.locator("li.event-row").count();
  // And stays there when its rows change height: a narrower window wraps them anew.
  await page.setViewportSize({ width: 420, height: 900 });
  await expectShown(log, `test ${EVENTS / 5 - 1} passed`);
  await page.setViewportSize({ width: 1440, height: 900 });

  const frames = await p95FrameMs(log, "jump");
  reportPerf(
    `${EVENTS.toLocaleString("en")} events: latest on screen in ${loadMs} ms, ${rendered} rows ` +
      `in the page, p95 frame ${frames.toFixed(1)} ms jumping through it`,
  );

  // Scrolled to the top, again and again: older pages come, until the first event.
  await page.getByLabel("Follow").uncheck();
  for (let i = 0; (await log.getAttribute("data-first-seq")) !== "1"; i++) {
    if (i > 100) throw new Error(`older events stopped at ${await log.getAttribute("data-first-seq")}`);
    await log.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event("scroll"));
    });
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await log.getAttribute("data-count")).toBe(String(total));
  expect(await log.getAttribute("data-gaps")).toBe("0");
  expect(await log.getAttribute("data-duplicates")).toBe("0");

  // The first turn is still there, scrolled to; and the log still follows live at the end.
  await log.evaluate((el) => (el.scrollTop = 0));
  await expect(log.getByText("Turn 0: looking at the next file")).toBeVisible();
  await page.getByLabel("Follow").check();
  await api.run.heartbeat.mutate(lease);
  await api.run.appendEvents.mutate({ ...lease, events: [{ type: "agent.message", payload: { role: "assistant", text: "One more, live." } }] });
  await expect.poll(() => log.getAttribute("data-last-seq"), { intervals: [50] }).toBe(String(total + 1));
  // Following lets the oldest go: the page holds a window, not the whole run.
  expect(Number(await log.getAttribute("data-count"))).toBeLessThanOrEqual(2_000);
  await expectShown(log, "One more, live.");

  await api.run.cancel.mutate({ runId: run.id });
});
