import type { Engine } from "@/trpc/types";

/** The engines a run or a workflow can use, as the forms name them. */
export const ENGINES: { id: Engine; label: string }[] = [
  { id: "anthropic", label: "Anthropic API agent" },
  { id: "claude_code", label: "Claude Code (headless)" },
  { id: "command", label: "Shell command" },
  { id: "acp", label: "ACP agent (from a profile)" },
];

export function isEngine(v: string): v is Engine {
  return ENGINES.some((e) => e.id === v);
}

/**
 * Current Claude models offered in the forms (any other valid name can still be typed; the
 * runner's default applies when none is given).
 */
export const MODELS = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"];

/** Engines that take a model; the others run a command or a profile's own agent. */
export const takesModel = (engine: Engine) => engine === "anthropic" || engine === "claude_code";
