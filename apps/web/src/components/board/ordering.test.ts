import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedBoard, startTestApi, type TestApi } from "@agentboard/api/testing";
import { testProviders } from "@agentboard/testkit";
import type { CardColumn } from "../../trpc/types";
import { groupByColumn, moveInOrder, neighboursOf, positionBetween, positionOfMove, type ColumnOrder } from "./ordering";

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

/**
 * The board's own moves (drag to a column and an index, as board-view does), each sent to the
 * real server: the position the board puts a card at before the answer must be the one the
 * server gives it, and the board's order must be the server's.
 */
describe.each(testProviders)("board ordering against the server on %s", (provider) => {
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;
  beforeAll(async () => {
    api = await startTestApi(provider);
    seed = await seedBoard(api, "order");
  });
  afterAll(() => api.close());

  it("each move lands where the board put it, and the board's order is the server's", async () => {
    const make = (title: string, column: CardColumn) => api.admin.card.create({ boardId: seed.board.id, projectId: seed.project.id, title, column });
    for (const [i, column] of (["todo", "todo", "todo", "in_progress", "in_progress"] as const).entries()) await make(`card ${i}`, column);
    const serverCards = () => api.admin.card.list({ boardId: seed.board.id });
    const ids = groupByColumn(await serverCards());
    const [t0, t1, t2] = ids.todo;
    const [p0, p1] = ids.in_progress;
    const moves: [string, CardColumn, number][] = [
      [t2!, "todo", 0], // to the top of its column: before its first card
      [t0!, "todo", 1], // between two cards
      [p0!, "todo", 3], // to the end of another column: after its last card
      [t1!, "done", 0], // into an empty column
      [p1!, "todo", 2], // between two again
      [seed.card.id, "in_progress", 0], // the last card of its column into an emptied one
    ];
    let order: ColumnOrder = groupByColumn(await serverCards());
    for (const [id, column, index] of moves) {
      const before = await serverCards();
      expect(groupByColumn(before)).toEqual(order);
      order = moveInOrder(order, id, column, index);
      const move = { cardId: id, ...neighboursOf(order, id)! };
      const predicted = positionOfMove(before, move);
      const moved = await api.admin.card.move(move);
      expect(moved.position).toBe(predicted);
      expect(groupByColumn(await serverCards())).toEqual(order);
    }
    expect(order.todo).toHaveLength(4);
    expect(order.done).toEqual([t1]);
  });
});
