import { describe, expect, it } from "vitest";
import { loadStartSettings, saveStartSettings } from "./start-settings";

/** The Storage interface over a Map: what localStorage does, without a browser. */
function memoryStore() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), raw: m };
}

describe("start settings", () => {
  it("a card gets its own last settings back; a new card of the project gets the project's last", () => {
    const store = memoryStore();
    saveStartSettings(store, { cardId: "c1", projectId: "p1" }, { engine: "command", command: "make test", budgetUsd: 2, model: "" });
    saveStartSettings(store, { cardId: "c2", projectId: "p1" }, { engine: "anthropic", model: "claude-opus-4-1" });
    expect(loadStartSettings(store, { cardId: "c1", projectId: "p1" })).toEqual({ engine: "command", command: "make test", budgetUsd: 2 });
    expect(loadStartSettings(store, { cardId: "c3", projectId: "p1" })).toEqual({ engine: "anthropic", model: "claude-opus-4-1" });
    expect(loadStartSettings(store, { cardId: "c4", projectId: "p2" })).toEqual({});
  });

  it("what was stored by something else is ignored rather than trusted", () => {
    const store = memoryStore();
    store.setItem("agentboard:start:card:c1", "{not json");
    store.setItem("agentboard:start:project:p1", JSON.stringify({ engine: "rm -rf", budgetUsd: -1 }));
    expect(loadStartSettings(store, { cardId: "c1", projectId: "p1" })).toEqual({});
  });
});
