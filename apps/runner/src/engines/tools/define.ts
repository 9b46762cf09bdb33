import type { ProcessStarter } from "@agentboard/sandbox";
import { z } from "zod";
import { EngineError, type ApprovalSubject, type EngineEvent } from "../types.js";
import type { Workspace } from "./paths.js";
import { ToolError } from "./tool-error.js";

export interface ToolContext {
  ws: Workspace;
  /** Starts the tool's processes (in the run's sandbox when the runner has one). */
  starter: ProcessStarter;
  signal: AbortSignal;
  emit(event: EngineEvent): void;
}

export interface ToolOutput {
  output: string;
  isError: boolean;
}

/** JSON schema of a tool's input, in the shape the Messages API takes. */
export interface ToolInputSchema {
  type: "object";
  properties?: unknown;
  required?: string[];
  [key: string]: unknown;
}

export interface AgentTool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: ToolInputSchema;
  /** Validates `input` and runs the tool. Failures other than cancellation become error results. */
  execute(input: unknown, ctx: ToolContext): Promise<ToolOutput>;
  /**
   * For tools an approval policy can hold (commands, writes): exactly what this call would
   * do. Null when the call would fail anyway (invalid input, a path outside the worktree):
   * then it runs, fails, and no one is asked about it.
   */
  approvalSubject?(input: unknown, ctx: ToolContext): Promise<ApprovalSubject | null>;
}

/** Longest text any tool hands back to the model. */
export const MAX_TOOL_OUTPUT = 30_000;

export function clip(text: string, max = MAX_TOOL_OUTPUT): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n… [output truncated: ${text.length - max} more characters]`;
}

function toInputSchema(schema: z.ZodType): ToolInputSchema {
  // io "input": fields with defaults stay optional for the model.
  const json = z.toJSONSchema(schema, { io: "input" });
  const { $schema: _ignored, ...rest } = json;
  if (rest.type !== "object") throw new Error("tool input schema must be an object");
  return { ...rest, type: "object" };
}

export function defineTool<S extends z.ZodType>(def: {
  name: string;
  description: string;
  input: S;
  run(input: z.output<S>, ctx: ToolContext): Promise<string | ToolOutput>;
  approval?(input: z.output<S>, ctx: ToolContext): Promise<ApprovalSubject | null>;
}): AgentTool {
  const approval = def.approval;
  return {
    ...(approval
      ? {
          async approvalSubject(raw: unknown, ctx: ToolContext) {
            const parsed = def.input.safeParse(raw);
            if (!parsed.success) return null;
            try {
              return await approval(parsed.data, ctx);
            } catch (err) {
              if (err instanceof ToolError) return null;
              throw err;
            }
          },
        }
      : {}),
    name: def.name,
    description: def.description,
    inputSchema: toInputSchema(def.input),
    async execute(raw, ctx) {
      const parsed = def.input.safeParse(raw);
      if (!parsed.success) {
        const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
        return { output: `invalid input for ${def.name}: ${detail}`, isError: true };
      }
      try {
        const out = await def.run(parsed.data, ctx);
        return typeof out === "string" ? { output: clip(out), isError: false } : { output: clip(out.output), isError: out.isError };
      } catch (err) {
        // Cancellation must end the run; every other failure is the model's to handle.
        if (err instanceof EngineError) throw err;
        if (err instanceof ToolError) return { output: err.message, isError: true };
        return { output: `${def.name} failed: ${err instanceof Error ? err.message : String(err)}`, isError: true };
      }
    },
  };
}
