import type { AgentTool } from "./define.js";
import { editFileTool, readFileTool, writeFileTool } from "./files.js";
import { runCommandTool } from "./run-command.js";
import { listFilesTool, searchFilesTool } from "./search.js";

export type { AgentTool, ToolContext } from "./define.js";
export { openWorkspace } from "./paths.js";
export { readFileTool, writeFileTool, editFileTool, listFilesTool, searchFilesTool, runCommandTool };

/** The tools the anthropic engine gives the model. */
export const defaultTools: readonly AgentTool[] = [readFileTool, writeFileTool, editFileTool, listFilesTool, searchFilesTool, runCommandTool];
