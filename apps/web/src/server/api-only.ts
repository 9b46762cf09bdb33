// The web server without Next.js: the same API, session routes and environment, on a
// plain HTTP server. Tests and benchmarks start it as a separate process (one per API
// replica). Prints one JSON line with its URL when it listens.
import { createServer } from "node:http";
import { startApiServer, type ApiServer } from "./api-server.js";
import { loadEnv } from "./env.js";
import { admitRequest } from "./http-guard.js";

const env = loadEnv();
let api: ApiServer;
try {
  api = await startApiServer(env);
} catch (err) {
  console.error(`[agentboard] cannot start: ${(err as Error).message}`);
  process.exit(1);
}
const server = createServer((req, res) => {
  if (!admitRequest(req, res)) return;
  if (api.handles(req)) return api.handle(req, res);
  res.writeHead(404).end();
});
server.listen(env.PORT, env.HOST, () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.PORT;
  console.log(JSON.stringify({ url: `http://${env.HOST}:${port}` }));
});

async function stop() {
  server.closeAllConnections();
  server.close();
  await api.close();
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
