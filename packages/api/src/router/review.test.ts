import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProviders } from "@agentboard/testkit";
import { seedBoard, startTestApi, type Caller, type TestApi } from "../testing/harness.js";
import { failure } from "../testing/failures.js";
import { place } from "../services/review.js";

/**
 * Inline review comments on a range of lines (docs/review-loop.md), on every provider: made
 * and validated, listed, quoted whole in the follow-up's prompt, and outdated on a later head
 * as soon as any line of the range changed.
 */

const HEAD = "b".repeat(40);
const PATH = "src/app.ts";
// New side (added and unchanged lines): 1 a, 2 b=3, 3 c=4, 4 d=5, 5 e, (a gap) 22 x, 23 y=2.
// Old side (removed lines): 2 b=2, 21 y=1, 22 z=1.
const DIFF1 = [
  `diff --git a/${PATH} b/${PATH}`,
  `--- a/${PATH}`,
  `+++ b/${PATH}`,
  "@@ -1,3 +1,5 @@",
  " export const a = 1;",
  "-export const b = 2;",
  "+export const b = 3;",
  "+export const c = 4;",
  "+export const d = 5;",
  " export const e = 6;",
  "@@ -20,3 +22,2 @@",
  " export const x = 0;",
  "-export const y = 1;",
  "-export const z = 1;",
  "+export const y = 2;",
  "",
].join("\n");
// The follow-up's head: c changed, a line added between d and e, the second hunk one line lower.
const DIFF2 = [
  `diff --git a/${PATH} b/${PATH}`,
  `--- a/${PATH}`,
  `+++ b/${PATH}`,
  "@@ -1,3 +1,6 @@",
  " export const a = 1;",
  "-export const b = 2;",
  "+export const b = 3;",
  "+export const c = 40;",
  "+export const d = 5;",
  "+export const cc = 7;",
  " export const e = 6;",
  "@@ -20,3 +23,2 @@",
  " export const x = 0;",
  "-export const y = 1;",
  "-export const z = 1;",
  "+export const y = 2;",
  "",
].join("\n");

describe.each(testProviders)("range review comments on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  let rig: Caller;
  let member: Caller;

  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api);
    rig = await api.as("runner", seed.workspace.id, "rig-1");
    member = await api.as("member", seed.workspace.id, "mia");
  });
  afterAll(() => api.close());

  /** Claims the queued run `runId` as the rig and completes it with `diff`. */
  async function complete(runId: string, diff: string, headCommit: string) {
    const claim = await rig.run.claim({ workspaceId: seed.workspace.id });
    expect(claim?.run.id).toBe(runId);
    const lease = claim!.leaseToken;
    await rig.run.start({ runId, leaseToken: lease, worktreePath: `/tmp/agentboard-review-test/${runId}` });
    await rig.run.complete({ runId, leaseToken: lease, status: "succeeded", output: { diff, filesChanged: [PATH], headCommit } });
  }

  async function finishedRun() {
    await api.core.deps.db.prisma.run.updateMany({ where: { status: "queued" }, data: { status: "cancelled" } });
    const card = await api.admin.card.create({ boardId: seed.board.id, projectId: seed.project.id, title: "Ranges", column: "todo" });
    const run = await api.admin.run.create({ cardId: card.id, engine: "command", command: "true" });
    await complete(run.id, DIFF1, HEAD);
    return run;
  }

  it("a comment covers line..endLine when every line of the range is in the diff; one without endLine stays one line", async () => {
    const run = await finishedRun();
    const range = await member.review.comment({ runId: run.id, path: PATH, line: 2, endLine: 4, side: "new", body: "These three belong together." });
    expect(range).toMatchObject({
      line: 2,
      endLine: 4,
      side: "new",
      lineText: "export const b = 3;\nexport const c = 4;\nexport const d = 5;",
      author: "member:mia",
    });
    // Old callers: no endLine is one line; endLine equal to line is one line too.
    const one = await member.review.comment({ runId: run.id, path: PATH, line: 5, body: "Fine." });
    expect(one).toMatchObject({ line: 5, endLine: null, lineText: "export const e = 6;" });
    const same = await member.review.comment({ runId: run.id, path: PATH, line: 1, endLine: 1, body: "Same." });
    expect(same.endLine).toBeNull();
    // A range of removed lines, by their old numbers.
    const removed = await member.review.comment({ runId: run.id, path: PATH, line: 21, endLine: 22, side: "old", body: "Why drop y and z?" });
    expect(removed).toMatchObject({ side: "old", endLine: 22, lineText: "export const y = 1;\nexport const z = 1;" });

    const listed = await member.review.list({ runId: run.id });
    expect(listed.map((c) => [c.body, c.line, c.endLine, c.placedLine, c.placedEndLine, c.outdated])).toEqual([
      ["These three belong together.", 2, 4, 2, 4, false],
      ["Fine.", 5, null, 5, null, false],
      ["Same.", 1, null, 1, null, false],
      ["Why drop y and z?", 21, 22, 21, 22, false],
    ]);
  });

  it("refuses a range that is backwards, too long, not an integer, or not wholly in the diff (BAD_REQUEST, field endLine)", async () => {
    const run = await finishedRun();
    const base = { runId: run.id, path: PATH, side: "new" as const, body: "x" };
    for (const endLine of [1, 2.5, 10_000_001]) {
      expect(await failure(member.review.comment({ ...base, line: 2, endLine }))).toMatchObject({ code: "BAD_REQUEST", field: "endLine" });
    }
    expect(await failure(member.review.comment({ ...base, line: 1, endLine: 501 }))).toMatchObject({ code: "BAD_REQUEST", field: "endLine" });
    // Across the gap between the hunks (lines 6..21 are not in the diff), and past its end.
    expect(await failure(member.review.comment({ ...base, line: 4, endLine: 22 }))).toMatchObject({ code: "BAD_REQUEST", field: "endLine" });
    expect(await failure(member.review.comment({ ...base, line: 22, endLine: 24 }))).toMatchObject({ code: "BAD_REQUEST", field: "endLine" });
    // The start line is checked first, as for one line.
    expect(await failure(member.review.comment({ ...base, line: 7, endLine: 8 }))).toMatchObject({ code: "BAD_REQUEST", field: "line" });
    // A range on the old side holds removed lines only (old line 3 is an unchanged line, named by its new number).
    expect(await failure(member.review.comment({ ...base, side: "old", line: 2, endLine: 3 }))).toMatchObject({ code: "BAD_REQUEST", field: "endLine" });
    expect(await member.review.list({ runId: run.id })).toEqual([]);
  });

  it("the follow-up quotes a range's code and says path:line-endLine; on the new head a range is outdated once any of its lines changed", async () => {
    const run = await finishedRun();
    const bcd = await member.review.comment({ runId: run.id, path: PATH, line: 2, endLine: 4, body: "Rename these." });
    const de = await member.review.comment({ runId: run.id, path: PATH, line: 4, endLine: 5, body: "Keep d next to e." });
    const xy = await member.review.comment({ runId: run.id, path: PATH, line: 22, endLine: 23, body: "This pair is right." });
    const b = await member.review.comment({ runId: run.id, path: PATH, line: 2, body: "And b alone." });

    const next = await member.run.followUp({ runId: run.id, message: "Thanks.", commentIds: [bcd.id, de.id, xy.id, b.id] });
    expect(next.prompt).toContain(`${PATH}:2 — member:mia:\nAnd b alone.`);
    expect(next.prompt).toContain(
      [
        `${PATH}:2-4 — member:mia:`,
        "Rename these.",
        "```",
        "  export const a = 1;",
        "  export const b = 2;",
        "> export const b = 3;",
        "> export const c = 4;",
        "> export const d = 5;",
        "  export const e = 6;",
        "  export const x = 0;",
        "```",
      ].join("\n"),
    );
    expect(next.prompt).toContain(
      [
        `${PATH}:4-5 — member:mia:`,
        "Keep d next to e.",
        "```",
        "  export const b = 3;",
        "  export const c = 4;",
        "> export const d = 5;",
        "> export const e = 6;",
        "  export const x = 0;",
        "  export const y = 1;",
        "```",
      ].join("\n"),
    );
    expect(next.prompt).toContain(
      [
        `${PATH}:22-23 — member:mia:`,
        "This pair is right.",
        "```",
        "  export const d = 5;",
        "  export const e = 6;",
        "> export const x = 0;",
        "  export const y = 1;",
        "  export const z = 1;",
        "> export const y = 2;",
        "```",
      ].join("\n"),
    );
    expect(next.prompt).toContain("Note from the reviewer:\nThanks.");

    await complete(next.id, DIFF2, "c".repeat(40));
    const byBody = new Map((await member.review.list({ runId: next.id })).map((c) => [c.body, c]));
    // c changed inside b..d: outdated. d and e still exist, but no longer in a row: outdated.
    expect(byBody.get("Rename these.")).toMatchObject({ outdated: true, placedLine: null, placedEndLine: null });
    expect(byBody.get("Keep d next to e.")).toMatchObject({ outdated: true, placedLine: null, placedEndLine: null });
    // x..y unchanged, one line lower; b alone unchanged, where it was.
    expect(byBody.get("This pair is right.")).toMatchObject({ outdated: false, line: 22, endLine: 23, placedLine: 23, placedEndLine: 24 });
    expect(byBody.get("And b alone.")).toMatchObject({ outdated: false, placedLine: 2, placedEndLine: null });
    // On the run they were made on, they stay where they were made.
    expect((await member.review.list({ runId: run.id })).find((c) => c.id === bcd.id)).toMatchObject({ outdated: false, placedLine: 2, placedEndLine: 4 });
  });

  it("the thread's summary names a range as path:line-endLine", async () => {
    const run = await finishedRun();
    await member.review.comment({ runId: run.id, path: PATH, line: 2, endLine: 4, body: "Rename these." });
    const next = await member.run.followUp({ runId: run.id, message: "go on" });
    const claim = await rig.run.claim({ workspaceId: seed.workspace.id });
    expect(claim?.run.id).toBe(next.id);
    const ctx = await rig.run.resumeContext({ runId: next.id, leaseToken: claim!.leaseToken });
    expect(ctx.seed).toContain(`- ${PATH}:2-4 (member:mia): Rename these.`);
  });
});

describe("placing a range comment", () => {
  const c = { line: 4, endLine: 5, side: "new" as const, lineText: "d\ne" };
  it("needs its lines in a row: the same texts in two hunks, with unshown lines between, are not the range", () => {
    const gap = [
      { side: "new" as const, line: 4, kind: "add" as const, text: "d" },
      { side: "new" as const, line: 9, kind: "context" as const, text: "e" },
    ];
    expect(place(c, gap)).toBeNull();
    const inRow = [
      { side: "new" as const, line: 1, kind: "add" as const, text: "d" },
      { side: "new" as const, line: 2, kind: "add" as const, text: "e" },
      { side: "new" as const, line: 6, kind: "add" as const, text: "d" },
      { side: "new" as const, line: 7, kind: "add" as const, text: "e" },
    ];
    // The nearest of two places.
    expect(place(c, inRow)).toBe(6);
  });
});
