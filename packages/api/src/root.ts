import { router } from "./trpc.js";
import { boardRouter } from "./router/board.js";
import { cardRouter } from "./router/card.js";
import { healthRouter } from "./router/health.js";
import { projectRouter } from "./router/project.js";
import { runRouter } from "./router/run.js";
import { runnerRouter } from "./router/runner.js";
import { tokenRouter } from "./router/token.js";
import { workspaceRouter } from "./router/workspace.js";
import { workflowRouter } from "./router/workflow.js";
import { worktreeRouter } from "./router/worktree.js";
import { dodRouter } from "./router/dod.js";
import { agentProfileRouter } from "./router/agent-profile.js";
import { reviewRouter } from "./router/review.js";

export const appRouter = router({
  health: healthRouter,
  workspace: workspaceRouter,
  board: boardRouter,
  project: projectRouter,
  card: cardRouter,
  token: tokenRouter,
  runner: runnerRouter,
  run: runRouter,
  workflow: workflowRouter,
  worktree: worktreeRouter,
  dod: dodRouter,
  agentProfile: agentProfileRouter,
  review: reviewRouter,
});

export type AppRouter = typeof appRouter;

/** The dotted paths of the router's procedures of one type (its procedure table is flat by path). */
export function procedurePaths(type: "query" | "mutation" | "subscription"): Set<string> {
  const table = appRouter._def.procedures as unknown as Record<string, { _def?: { type?: string } }>;
  return new Set(Object.keys(table).filter((path) => table[path]?._def?.type === type));
}
