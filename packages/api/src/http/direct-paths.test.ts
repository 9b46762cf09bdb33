import { describe, expect, it } from "vitest";
import { procedurePaths } from "../root.js";
import { DIRECT_MUTATIONS } from "./direct-mutation.js";
import { DIRECT_SUBSCRIPTIONS } from "./direct-subscription.js";

/**
 * The direct paths name the procedures they serve: each name must be a procedure of that
 * kind in the router (a renamed procedure would otherwise silently fall back to tRPC's
 * handler), and every subscription is served directly.
 */
describe("the procedures the direct paths serve", () => {
  it("names only mutations of the router, the runner protocol's", () => {
    const mutations = procedurePaths("mutation");
    expect([...DIRECT_MUTATIONS].filter((path) => !mutations.has(path))).toEqual([]);
    expect(DIRECT_MUTATIONS.has("run.claim")).toBe(true);
    expect(DIRECT_MUTATIONS.has("card.create")).toBe(false);
  });

  it("names every subscription of the router", () => {
    expect([...DIRECT_SUBSCRIPTIONS].sort()).toEqual([...procedurePaths("subscription")].sort());
  });
});
