// The agentboard server: one Node process serving the tRPC API (/api/trpc), the health
// endpoint and the Next.js board, with the reaper and, by default, a local runner.
// The API is mounted on Node's http server directly rather than through a Next route
// handler: the runner protocol's hot paths (claim, heartbeat) skip Next's request
// pipeline, and long-polls and SSE streams are plain Node responses.
import { createServer } from "node:http";
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { keepConnectionsAlive } from "@agentboard/api";
import { startApiServer, type ApiServer } from "./src/server/api-server.js";
import { loadEnv } from "./src/server/env.js";
import { admitRequest } from "./src/server/http-guard.js";

const env = loadEnv();
const dev = env.NODE_ENV !== "production";
// The app's directory (next.config.ts, .next/): this file's, or its parent's when this is the
// compiled dist/server.js that `npm start` runs.
const here = dirname(fileURLToPath(import.meta.url));
const app = next({ dev, dir: basename(here) === "dist" ? dirname(here) : here, hostname: env.HOST, port: env.PORT });
// Next.js and the API (database, migrations, the reaper) get ready side by side.
const nextReady = app.prepare();
let api: ApiServer;
try {
  [api] = await Promise.all([startApiServer(env), nextReady]);
} catch (err) {
  // A refusal to start (another server holds the database, say) is a message, not a stack.
  console.error(`[agentboard] cannot start: ${(err as Error).message}`);
  process.exit(1);
}
const handleNext = app.getRequestHandler();
const server = createServer((req, res) => {
  if (!admitRequest(req, res)) return;
  if (api.handles(req)) return api.handle(req, res);
  void handleNext(req, res);
});
keepConnectionsAlive(server);
server.listen(env.PORT, env.HOST, () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.PORT;
  void api.started({ host: env.HOST, port });
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`[agentboard] ${signal}: shutting down`);
  await api.stopRunner();
  // No new connections; the calls in progress are answered (the API waits for them, and its
  // long-polls and streams end) before the database closes and the last connections drop.
  server.close();
  server.closeIdleConnections();
  await api.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
