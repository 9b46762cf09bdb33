import { AnthropicEngine, type AnthropicEngineOptions } from "./anthropic.js";
import { ClaudeCodeEngine, type ClaudeCodeEngineOptions } from "./claude-code.js";
import { CommandEngine, type CommandEngineOptions } from "./command.js";
import { AcpEngine, type AcpEngineOptions } from "./acp/engine.js";
import type { AgentEngine, EngineName } from "./types.js";

export * from "./types.js";
export type { AnthropicEngineOptions } from "./anthropic.js";
export type { ClaudeCodeEngineOptions } from "./claude-code.js";
export type { CommandEngineOptions } from "./command.js";
export type { AcpEngineOptions } from "./acp/engine.js";

export interface EngineOptions {
  anthropic?: AnthropicEngineOptions;
  claudeCode?: ClaudeCodeEngineOptions;
  command?: CommandEngineOptions;
  acp?: AcpEngineOptions;
}

export function createEngine(name: EngineName, options: EngineOptions = {}): AgentEngine {
  switch (name) {
    case "anthropic":
      return new AnthropicEngine(options.anthropic);
    case "claude_code":
      return new ClaudeCodeEngine(options.claudeCode);
    case "command":
      return new CommandEngine(options.command);
    case "acp":
      return new AcpEngine(options.acp);
    default: {
      const unknownName: never = name;
      throw new Error(`unknown engine ${String(unknownName)}`);
    }
  }
}
