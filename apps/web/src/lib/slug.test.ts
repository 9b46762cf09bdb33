import { describe, expect, it } from "vitest";
import { slugify } from "./slug";

describe("slugify (the workspace form's proposed slug)", () => {
  it("folds accented letters instead of dropping them", () => {
    expect(slugify("Ünïcode")).toBe("unicode");
    expect(slugify("Équipe Café")).toBe("equipe-cafe");
  });

  it("keeps to lowercase letters, digits and single dashes, at most 64", () => {
    expect(slugify("  Team #1 — Ops!  ")).toBe("team-1-ops");
    expect(slugify("🚀")).toBe("");
    expect(slugify(`${"a".repeat(63)} b`)).toBe("a".repeat(63));
  });
});
