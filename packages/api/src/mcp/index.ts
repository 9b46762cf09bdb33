// The MCP server's tools and backends, without the HTTP server: the CLI's stdio server uses this.
export { createMcpServer, toolError } from "./tools.js";
export { callerBackend, clientBackend, type McpBackend } from "./backend.js";
