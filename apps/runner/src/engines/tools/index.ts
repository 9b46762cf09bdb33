import type { AgentTool } from "./define.js";
import { editFileTool, readFileTool, writeFileTool } from "./files.js";
import { runCommandTool } from "./run-command.js";
import { listFilesTool, searchFilesTool } from "./search.js";

export { defineTool, clip, MAX_TOOL_OUTPUT, type AgentTool, type ToolContext, type ToolOutput, type ToolInputSchema } from "./define.js";
export { openWorkspace, resolveInWorkspace, displayPath, isInside, type Workspace } from "./paths.js";
export { ToolError } from "./tool-error.js";
export { readFileTool, writeFileTool, editFileTool, listFilesTool, searchFilesTool, runCommandTool };

/** The tools the anthropic engine gives the model. */
export const defaultTools: readonly AgentTool[] = [
  readFileTool,
  writeFileTool,
  editFileTool,
  listFilesTool,
  searchFilesTool,
  runCommandTool,
];
