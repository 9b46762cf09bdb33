import type { Engine } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { badRequest, notFound } from "../errors.js";
import { agentSpecFor } from "./agent-profiles.js";
import { assertWorkflowActive, dodOf, getWorkflow, promptVars, renderPrompt, withProjectTests } from "./workflows.js";

export interface RunPlanInput {
  cardId: string;
  prompt?: string;
  workflowId?: string;
  engine?: Engine;
  model?: string;
  command?: string;
  /** For engine `acp`: the agent profile's name. */
  agentProfile?: string;
}

/**
 * What a run on a card would be given: the workflow (the chosen one or the workspace's
 * default), the engine, model and command, and the rendered prompt. One function serves
 * both `run.create` and `run.previewPrompt`, so the preview is exactly what gets sent.
 */
export async function planRun(deps: Deps, input: RunPlanInput) {
  const card = await deps.db.prisma.card.findUnique({ where: { id: input.cardId }, include: { board: true, project: true } });
  if (!card) throw notFound("card", input.cardId);
  const workspaceId = card.board.workspaceId;
  const workflow = input.workflowId
    ? await getWorkflow(deps, input.workflowId)
    : await deps.db.prisma.workflow.findFirst({ where: { workspaceId, isDefault: true } });
  if (workflow && workflow.workspaceId !== workspaceId) throw notFound("workflow", workflow.id);
  if (workflow) assertWorkflowActive(workflow);

  const engine: Engine = input.engine ?? workflow?.engine ?? "anthropic";
  if (engine !== "acp" && input.agentProfile) throw badRequest("agentProfile is for engine acp only", "agentProfile");
  const agent = engine === "acp" ? await agentSpecFor(deps, workspaceId, input.agentProfile) : null;
  const prompt = input.prompt ?? (workflow ? renderPrompt(workflow.promptTemplate, promptVars(card)) : `${card.title}\n\n${card.description}`.trim());
  return {
    card,
    workspaceId,
    workflow,
    engine,
    prompt,
    model: input.model ?? workflow?.model ?? null,
    command: input.command ?? workflow?.command ?? null,
    dod: workflow ? withProjectTests(dodOf(workflow), card.project.testCommand) : [],
    agent,
  };
}
