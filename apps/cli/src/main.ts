import { runCli } from "./index.js";
import { formatOutcome } from "./output.js";

const [command, ...rest] = process.argv.slice(2);
if (command === "mcp") {
  // A long-lived server whose stdout is the MCP channel: no JSON outcome is printed.
  const { runMcpStdio } = await import("./mcp.js");
  process.exitCode = await runMcpStdio(rest, process.env);
} else {
  const outcome = await runCli(process.argv.slice(2), process.env);
  process.stdout.write(`${formatOutcome(outcome)}\n`);
  process.exitCode = outcome.ok ? 0 : 1;
}
