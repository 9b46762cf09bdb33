import type { Prisma } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { notFound } from "../errors.js";

/** A DoD item of a workflow; `check` is a shell command the runner runs in the worktree. */
export interface DodSpec {
  key: string;
  title: string;
  required: boolean;
  check?: string | null;
  /** A passing check validates the item by itself. */
  autoValidate?: boolean;
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
  dod: [
    { key: "tests", title: "Tests pass", required: true },
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

export function dodOf(wf: { dod: Prisma.JsonValue }): DodSpec[] {
  return Array.isArray(wf.dod) ? (wf.dod as unknown as DodSpec[]) : [];
}

/** Fills `{{card.title}}`-style variables; unknown variables are left as they are. */
export function renderPrompt(template: string, vars: Record<string, Record<string, string | null | undefined>>): string {
  return template.replace(/\{\{\s*([a-z]+)\.([a-zA-Z]+)\s*\}\}/g, (whole, scope: string, key: string) => {
    const value = vars[scope]?.[key];
    return value == null ? whole : value;
  });
}
