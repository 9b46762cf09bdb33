import { describe, expect, it } from "vitest";
import { labelsProblem, MAX_TITLE, titleProblem } from "./card-fields";

describe("card fields, checked before a save", () => {
  it("names each label the server would refuse, with the rule", () => {
    expect(labelsProblem(["ui", "team:web", "v1.2_x-y"])).toBeNull();
    expect(labelsProblem(["ui", "needs review", "ça"])).toBe("“needs review”, “ça”: a label is 1–64 letters, digits and . _ : - (no spaces)");
    expect(labelsProblem(["x".repeat(65)])).toContain("1–64");
  });

  it("says a title is too long, and by how much, instead of cutting it", () => {
    expect(titleProblem("a".repeat(MAX_TITLE))).toBeNull();
    expect(titleProblem("a".repeat(10_000))).toBe("A title is at most 300 characters; this one has 10,000. Shorten it and put the rest in the description.");
  });
});
