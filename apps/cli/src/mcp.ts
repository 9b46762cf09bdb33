import { parseArgs } from "node:util";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { clientBackend, createMcpServer } from "@agentboard/api/mcp";
import { createAgentboardClient } from "@agentboard/client";

/**
 * `agentboard mcp`: the MCP server on stdin/stdout for an assistant to start. Its tools call
 * the server at --server (AGENTBOARD_SERVER) with --token (AGENTBOARD_TOKEN), so they can do
 * exactly what that token may. Stdout is the protocol's: messages go to stderr.
 */
export async function runMcpStdio(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let values: { server?: string; token?: string };
  try {
    values = parseArgs({ args: argv, strict: true, options: { server: { type: "string" }, token: { type: "string" } } }).values;
  } catch (err) {
    process.stderr.write(`agentboard mcp: ${(err as Error).message}\n`);
    return 2;
  }
  const server = values.server ?? env.AGENTBOARD_SERVER ?? "http://127.0.0.1:3000";
  const token = values.token ?? env.AGENTBOARD_TOKEN;
  if (!token) {
    process.stderr.write("agentboard mcp: a token is required (--token or AGENTBOARD_TOKEN)\n");
    return 2;
  }
  const client = createAgentboardClient({ url: server, token });
  try {
    const me = await client.token.whoami.query();
    process.stderr.write(`agentboard mcp: ${server} as ${me.role}:${me.name}\n`);
  } catch (err) {
    process.stderr.write(`agentboard mcp: cannot use ${server} with this token: ${(err as Error).message}\n`);
    return 1;
  }
  const mcp = createMcpServer(clientBackend(client));
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
  await mcp.connect(transport);
  process.stdin.once("end", () => void mcp.close());
  await closed;
  return 0;
}
