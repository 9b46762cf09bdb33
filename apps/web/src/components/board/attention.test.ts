import { describe, expect, it } from "vitest";
import { actorOfSession, newAttention, type Attention, type CardWithLatestRun } from "./attention";

function card(id: string, run: { attention: Attention | null; createdBy?: string } | null): CardWithLatestRun {
  return { id, title: `card ${id}`, runs: run ? [{ id: `run-${id}`, createdBy: "user:mia", ...run }] : [] };
}

describe("newAttention", () => {
  it("tells of my runs that come to need me, once, and not of what was already so when the board opened", () => {
    const seen = new Map<string, Attention | null>();
    expect(newAttention(seen, [card("a", { attention: "review" }), card("b", { attention: null }), card("c", null)], "user:mia", true)).toEqual([]);
    // b fails: news. a is unchanged: not news.
    expect(newAttention(seen, [card("a", { attention: "review" }), card("b", { attention: "failed" })], "user:mia", false)).toEqual([
      { runId: "run-b", cardId: "b", title: "card b", attention: "failed" },
    ]);
    expect(newAttention(seen, [card("a", { attention: "review" }), card("b", { attention: "failed" })], "user:mia", false)).toEqual([]);
    // A run started after the board opened that already needs me is news.
    expect(newAttention(seen, [card("d", { attention: "approval" })], "user:mia", false)).toHaveLength(1);
  });

  it("ignores runs someone else started, and everything without a session", () => {
    const seen = new Map<string, Attention | null>();
    newAttention(seen, [card("a", { attention: null, createdBy: "user:bob" })], "user:mia", true);
    expect(newAttention(seen, [card("a", { attention: "failed", createdBy: "user:bob" })], "user:mia", false)).toEqual([]);
    expect(newAttention(new Map(), [card("a", { attention: "failed" })], null, false)).toEqual([]);
  });

  it("names the session as the server does", () => {
    expect(actorOfSession({ name: "mia", role: "member", userId: "u1" })).toBe("user:mia");
    expect(actorOfSession({ name: "ci", role: "member", userId: null })).toBe("member:ci");
    expect(actorOfSession(undefined)).toBeNull();
  });
});
