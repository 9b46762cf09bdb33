import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentboardClient, type AgentboardClient } from "@agentboard/client";
import { git, initRepo } from "@agentboard/testkit";
import { startApiServer, type ApiServer } from "./api-server";
import { loadEnv } from "./env";

/**
 * The embedded default that `npm start` gives: the server with its local runner, on SQLite
 * in a data directory, runs a card's work with nothing else started.
 */
const ADMIN = "ab_test_admin_token_for_local_runner";

describe("the server's local runner", () => {
  let dir: string;
  let api: ApiServer;
  let server: Server;
  let client: AgentboardClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "agentboard-local-"));
    const env = loadEnv({ NODE_ENV: "test", AGENTBOARD_DATA_DIR: join(dir, "data"), AGENTBOARD_ADMIN_TOKEN: ADMIN, AGENTBOARD_LOCAL_RUNNER: "1", INIT_CWD: dir, PORT: "0" });
    api = await startApiServer(env);
    server = createServer((req, res) => (api.handles(req) ? api.handle(req, res) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    await api.started({ host: "127.0.0.1", port });
    client = createAgentboardClient({ url: `http://127.0.0.1:${port}`, token: ADMIN });
  });
  afterAll(async () => {
    await api.stopRunner();
    server.closeAllConnections();
    server.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("claims and completes a run in a workspace created after the server started", async () => {
    const repo = initRepo(join(dir, "data", "repos", "repo"), { "README.md": "hello\n" });

    const ws = await client.workspace.create.mutate({ name: "Local", slug: "local" });
    const board = await client.board.create.mutate({ workspaceId: ws.id, name: "Main" });
    const project = await client.project.create.mutate({ workspaceId: ws.id, name: "repo", repoPath: repo, baseBranch: "main" });
    const card = await client.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Write a file" });
    const run = await client.run.create.mutate({ cardId: card.id, engine: "command", command: "echo done > DONE.txt" });

    const final = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the local runner never finished the run")), 60_000);
      const sub = client.run.onEvents.subscribe({ runId: run.id }, {
        onData: ({ data }) => {
          if (data.type === "run.succeeded" || data.type === "run.failed") {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve(data.type);
          }
        },
        onError: reject,
      });
    });
    expect(final).toBe("run.succeeded");
    const done = await client.run.byId.query({ runId: run.id });
    expect(done).toMatchObject({ status: "succeeded", filesChanged: ["DONE.txt"] });
    expect(git(repo, "show", `${done.branch}:DONE.txt`)).toBe("done");
    expect((await client.card.byId.query({ cardId: card.id })).column).toBe("in_review");
  });
});
