import type { ApprovalPolicy, Engine, Prisma } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { badRequest, conflict, notFound } from "../errors.js";

/** A DoD item of a workflow; `check` is a shell command the runner runs in the worktree. */
export interface DodSpec {
  key: string;
  title: string;
  required: boolean;
  check?: string | null;
  /** A passing check validates the item by itself. */
  autoValidate?: boolean;
  /** A validation given on an older head keeps counting after the branch moves. */
  carryOver?: boolean;
}

/** The DoD item a project's test command satisfies when it has no check of its own. */
export const TESTS_ITEM_KEY = "tests";

/**
 * A run's DoD items with the project's test command as the check of the `tests` item that
 * names none, validating itself when it passes (the runner runs the test command once for
 * both). An item with its own check keeps it; a project without a test command changes nothing.
 */
export function withProjectTests(dod: DodSpec[], testCommand: string | null | undefined): DodSpec[] {
  const command = testCommand?.trim();
  if (!command) return dod;
  return dod.map((d) => (d.key === TESTS_ITEM_KEY && !d.check ? { ...d, check: command, autoValidate: true } : d));
}

export const DEFAULT_WORKFLOW = {
  name: "Implement card",
  promptTemplate: [
    "You are working in a git worktree of the project {{project.name}}.",
    "",
    "Task: {{card.title}}",
    "",
    "{{card.description}}",
    "",
    "Make the change, keep the project's tests passing, and finish with a short summary of what you did.",
  ].join("\n"),
  // No `check` here: the default workflow exists before any project does. A run takes its
  // project's test command as the check of this item (withProjectTests); a project without
  // one leaves it to a person, who attaches the test output for another to validate.
  dod: [
    { key: TESTS_ITEM_KEY, title: "Tests pass", required: true },
    { key: "review", title: "Change reviewed by a person", required: true },
  ] satisfies DodSpec[],
};

export async function ensureDefaultWorkflow(deps: Deps, workspaceId: string) {
  const existing = await deps.db.prisma.workflow.findFirst({ where: { workspaceId, isDefault: true } });
  if (existing) return existing;
  return deps.db.prisma.workflow.create({
    data: { workspaceId, isDefault: true, name: DEFAULT_WORKFLOW.name, promptTemplate: DEFAULT_WORKFLOW.promptTemplate, dod: DEFAULT_WORKFLOW.dod },
  });
}

export async function getWorkflow(deps: Deps, id: string) {
  const wf = await deps.db.prisma.workflow.findUnique({ where: { id } });
  if (!wf) throw notFound("workflow", id);
  return wf;
}

/**
 * The DoD of a stored workflow. Rows are written through the validated API, but the
 * column is JSON: anything malformed (a hand-edited row) is dropped rather than trusted.
 */
export function dodOf(wf: { dod: Prisma.JsonValue }): DodSpec[] {
  if (!Array.isArray(wf.dod)) return [];
  const specs: DodSpec[] = [];
  for (const entry of wf.dod) {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) continue;
    const { key, title, required, check, autoValidate, carryOver } = entry;
    if (typeof key !== "string" || typeof title !== "string") continue;
    specs.push({
      key,
      title,
      required: required !== false,
      check: typeof check === "string" ? check : null,
      autoValidate: autoValidate === true && typeof check === "string",
      carryOver: carryOver === true,
    });
  }
  return specs;
}

/** Fills `{{card.title}}`-style variables; unknown variables are left as they are. */
export function renderPrompt(template: string, vars: Record<string, Record<string, string | null | undefined>>): string {
  return template.replace(/\{\{\s*([a-z]+)\.([a-zA-Z]+)\s*\}\}/g, (whole, scope: string, key: string) => {
    const value = vars[scope]?.[key];
    return value == null ? whole : value;
  });
}

export async function listWorkflows(deps: Deps, workspaceId: string, opts: { archived?: boolean } = {}) {
  const rows = await deps.db.prisma.workflow.findMany({
    where: { workspaceId, archivedAt: opts.archived ? { not: null } : null },
    orderBy: [{ isDefault: "desc" }, { name: "asc" }],
  });
  return rows.map(viewWorkflow);
}

/** A workflow as clients see it: the DoD typed instead of raw JSON. */
export function viewWorkflow<W extends { dod: Prisma.JsonValue }>(wf: W): Omit<W, "dod"> & { dod: DodSpec[] } {
  return { ...wf, dod: dodOf(wf) };
}

export interface WorkflowInput {
  workspaceId: string;
  name: string;
  promptTemplate: string;
  engine: Engine;
  model?: string | null;
  command?: string | null;
  maxTurns?: number | null;
  timeoutMs?: number | null;
  budgetUsd?: number | null;
  dod: DodSpec[];
  isDefault?: boolean;
  approval?: ApprovalPolicy;
  approvalTimeoutMs?: number | null;
  requireIndependentReview?: boolean;
}

export type WorkflowUpdate = Partial<Omit<WorkflowInput, "workspaceId">> & { workflowId: string };

/** Normalised for storage: optional fields are written explicitly so reads need no defaults. */
function storedDod(dod: DodSpec[]): Prisma.InputJsonValue {
  return dod.map((d) => ({
    key: d.key,
    title: d.title,
    required: d.required,
    check: d.check ?? null,
    autoValidate: d.autoValidate ?? false,
    carryOver: d.carryOver ?? false,
  }));
}

function assertRunnable(engine: Engine, command: string | null | undefined) {
  if (engine === "command" && !command) throw badRequest("the command engine needs a command", "command");
}

export async function createWorkflow(deps: Deps, input: WorkflowInput) {
  assertRunnable(input.engine, input.command);
  return deps.db.prisma.$transaction(async (tx) => {
    // One default per workspace: making this one the default demotes the previous one in
    // the same transaction, so a reader never sees two or none.
    if (input.isDefault) await tx.workflow.updateMany({ where: { workspaceId: input.workspaceId, isDefault: true }, data: { isDefault: false } });
    return tx.workflow.create({
      data: {
        workspaceId: input.workspaceId,
        name: input.name,
        promptTemplate: input.promptTemplate,
        engine: input.engine,
        model: input.model ?? null,
        command: input.command ?? null,
        maxTurns: input.maxTurns ?? null,
        timeoutMs: input.timeoutMs ?? null,
        budgetUsd: input.budgetUsd ?? null,
        dod: storedDod(input.dod),
        isDefault: input.isDefault ?? false,
        approval: input.approval ?? "none",
        approvalTimeoutMs: input.approvalTimeoutMs ?? null,
        requireIndependentReview: input.requireIndependentReview ?? false,
      },
    });
  });
}

/**
 * Changes apply to runs created afterwards: a run copies its prompt, settings and DoD
 * items when it is created, so editing a workflow never rewrites a run's contract.
 */
export async function updateWorkflow(deps: Deps, input: WorkflowUpdate) {
  const current = await getWorkflow(deps, input.workflowId);
  if (current.archivedAt) throw conflict("ARCHIVED", "this workflow is archived: restore it first");
  if (input.isDefault === false && current.isDefault) {
    throw badRequest("a workspace always has a default workflow: make another workflow the default instead", "isDefault");
  }
  const engine = input.engine ?? current.engine;
  const command = input.command !== undefined ? input.command : current.command;
  assertRunnable(engine, command);
  return deps.db.prisma.$transaction(async (tx) => {
    if (input.isDefault && !current.isDefault) {
      await tx.workflow.updateMany({ where: { workspaceId: current.workspaceId, isDefault: true }, data: { isDefault: false } });
    }
    return tx.workflow.update({
      where: { id: input.workflowId },
      data: {
        name: input.name,
        promptTemplate: input.promptTemplate,
        engine: input.engine,
        model: input.model,
        command: input.command,
        maxTurns: input.maxTurns,
        timeoutMs: input.timeoutMs,
        budgetUsd: input.budgetUsd,
        isDefault: input.isDefault,
        approval: input.approval,
        approvalTimeoutMs: input.approvalTimeoutMs,
        requireIndependentReview: input.requireIndependentReview,
        ...(input.dod ? { dod: storedDod(input.dod) } : {}),
      },
    });
  });
}

/**
 * Off the start-run form and the list, for runs created afterwards; the runs it made keep
 * their copied prompt and DoD. The default is not archived: make another one the default.
 */
export async function archiveWorkflow(deps: Deps, workflowId: string) {
  const current = await getWorkflow(deps, workflowId);
  if (current.isDefault) throw badRequest("the default workflow cannot be archived: make another workflow the default first", "isDefault");
  return deps.db.prisma.workflow.update({ where: { id: workflowId }, data: { archivedAt: current.archivedAt ?? new Date() } });
}

export async function restoreWorkflow(deps: Deps, workflowId: string) {
  await getWorkflow(deps, workflowId);
  return deps.db.prisma.workflow.update({ where: { id: workflowId }, data: { archivedAt: null } });
}

/** A run may not be created with an archived workflow. */
export function assertWorkflowActive(wf: { archivedAt: Date | null }) {
  if (wf.archivedAt) throw conflict("ARCHIVED", "this workflow is archived: restore it first");
}

/**
 * A template being edited, rendered against one card as `run.create` would render it: the
 * editor's live preview. The card must be of the workflow's workspace (checked by the caller).
 */
export async function previewTemplate(deps: Deps, input: { cardId: string; promptTemplate: string }) {
  const card = await deps.db.prisma.card.findUnique({ where: { id: input.cardId }, include: { project: true } });
  if (!card) throw notFound("card", input.cardId);
  return {
    prompt: renderPrompt(input.promptTemplate, promptVars(card)),
    card: { id: card.id, title: card.title },
  };
}

/** The variables a prompt template may use. */
export function promptVars(card: {
  id: string;
  title: string;
  description: string;
  project: { name: string; baseBranch: string; testCommand: string | null };
}) {
  return {
    card: { title: card.title, description: card.description, id: card.id },
    project: { name: card.project.name, baseBranch: card.project.baseBranch, testCommand: card.project.testCommand },
  };
}
