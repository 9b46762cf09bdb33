/**
 * A failure the model should see and can recover from (bad path, missing string, failing
 * command). The agent loop turns it into a tool_result with is_error: true and goes on.
 */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolError";
  }
}
