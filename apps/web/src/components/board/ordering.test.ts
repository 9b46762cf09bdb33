import { describe, expect, it } from "vitest";
import { groupByColumn, moveInOrder, neighboursOf, positionBetween } from "./ordering";

const cards = [
  { id: "a", column: "todo" as const, position: 2048 },
  { id: "b", column: "todo" as const, position: 1024 },
  { id: "c", column: "done" as const, position: 1024 },
];

describe("board ordering", () => {
  it("groups cards by column in position order", () => {
    const order = groupByColumn(cards);
    expect(order.todo).toEqual(["b", "a"]);
    expect(order.done).toEqual(["c"]);
    expect(order.backlog).toEqual([]);
  });

  it("moves a card between columns and names its new neighbours", () => {
    const order = moveInOrder(groupByColumn(cards), "c", "todo", 1);
    expect(order.todo).toEqual(["b", "c", "a"]);
    expect(order.done).toEqual([]);
    expect(neighboursOf(order, "c")).toEqual({ column: "todo", afterCardId: "b", beforeCardId: "a" });
    expect(neighboursOf(order, "b")).toEqual({ column: "todo", afterCardId: null, beforeCardId: "c" });
  });

  it("computes the same positions as the server", () => {
    expect(positionBetween(1024, 2048, null)).toBe(1536);
    expect(positionBetween(2048, null, null)).toBe(3072);
    expect(positionBetween(null, 1024, null)).toBe(0);
    expect(positionBetween(null, null, 4096)).toBe(5120);
    expect(positionBetween(null, null, null)).toBe(1024);
  });
});
