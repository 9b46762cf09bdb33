import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentboardClient, type AgentboardClient } from "@agentboard/client";
import { git, initRepo, textOf } from "@agentboard/testkit";
import { startApiServer, type ApiServer } from "./api-server";
import { loadEnv } from "./env";

/**
 * The embedded default that `npm start` gives: the server with its local runner (a process
 * of its own), on SQLite in a data directory, runs a card's work with nothing else started —
 * and a run's commands reach nothing of the server's.
 */
type RunEvents = Awaited<ReturnType<AgentboardClient["run"]["events"]["query"]>>;

function finished(client: AgentboardClient, runId: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the local runner never finished the run")), 60_000);
    const sub = client.run.onEvents.subscribe(
      { runId },
      {
        onData: ({ data }) => {
          if (data.type === "run.succeeded" || data.type === "run.failed") {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve(data.type);
          }
        },
        onError: reject,
      },
    );
  });
}

describe("the server's local runner", () => {
  let dir: string;
  let api: ApiServer;
  let server: Server;
  let client: AgentboardClient;
  let url: string;
  let adminToken: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "agentboard-local-"));
    // As `npm start` does on first start: the admin token is created and kept in the data directory.
    const env = loadEnv({ NODE_ENV: "test", AGENTBOARD_DATA_DIR: join(dir, "data"), AGENTBOARD_LOCAL_RUNNER: "1", INIT_CWD: dir, PORT: "0" });
    api = await startApiServer(env);
    server = createServer((req, res) => (api.handles(req) ? api.handle(req, res) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const log = console.log;
    console.log = () => undefined;
    try {
      await api.started({ host: "127.0.0.1", port });
    } finally {
      console.log = log;
    }
    url = `http://127.0.0.1:${port}`;
    adminToken = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
    client = createAgentboardClient({ url, token: adminToken });
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

    expect(await finished(client, run.id)).toBe("run.succeeded");
    const done = await client.run.byId.query({ runId: run.id });
    expect(done).toMatchObject({ status: "succeeded", filesChanged: ["DONE.txt"] });
    expect(git(repo, "show", `${done.branch}:DONE.txt`)).toBe("done");
    expect((await client.card.byId.query({ cardId: card.id })).column).toBe("in_review");
  });

  it("runs as a process of its own, with a runner token and without the admin token", () => {
    const pid = api.localRunner?.process?.pid;
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    expect(environ.join("\n")).not.toContain(adminToken);
    expect(environ.some((e) => /^AGENTBOARD_TOKEN=ab_/.test(e))).toBe(true);
  });

  it("a member's command run reaches nothing of the server's: the admin token file, the runner's environment, the data directory", async () => {
    const repo = initRepo(join(dir, "data", "repos", "repo2"), { "README.md": "hello\n" });
    const ws = await client.workspace.create.mutate({ name: "Escalation", slug: "escalation" });
    const board = await client.board.create.mutate({ workspaceId: ws.id, name: "Main" });
    const project = await client.project.create.mutate({ workspaceId: ws.id, name: "repo2", repoPath: repo, baseBranch: "main" });
    const { token: memberToken } = await client.token.create.mutate({ workspaceId: ws.id, role: "member", name: "mallory" });
    const member = createAgentboardClient({ url, token: memberToken });
    const card = await member.card.create.mutate({ boardId: board.id, projectId: project.id, title: "Look around" });
    const dataDir = join(dir, "data");
    const command = [
      'cat "$AGENTBOARD_WORKTREE/../../admin-token"',
      `cat ${dataDir}/admin-token ${dataDir}/agentboard.db`,
      'tr "\\0" "\\n" < /proc/$PPID/environ',
      'for p in /proc/[0-9]*; do tr "\\0" "\\n" < $p/environ; done',
      "env",
      'ls -la "$AGENTBOARD_WORKTREE/.." "$AGENTBOARD_WORKTREE/../.."',
      "echo END",
    ].join("; ");
    const run = await member.run.create.mutate({ cardId: card.id, engine: "command", command });
    expect(await finished(member, run.id)).toBe("run.succeeded");

    const events: RunEvents = await member.run.events.query({ runId: run.id, limit: 1000 });
    const output = events
      .filter((e) => e.type === "command.output")
      .map((e) => String((e.payload as { text?: string }).text ?? ""))
      .join("");
    expect(output).toContain("END");
    expect(output).toMatch(/admin-token: No such file or directory/);
    expect(output).toMatch(/agentboard\.db: No such file or directory/);
    expect(output).toContain("HOME=/home/agent");

    // The runner's token, read here from outside (the test is the host), is nowhere either.
    const runnerEnv = readFileSync(`/proc/${api.localRunner?.process?.pid}/environ`, "utf8").split("\0");
    const runnerToken = runnerEnv.find((e) => e.startsWith("AGENTBOARD_TOKEN="))?.slice("AGENTBOARD_TOKEN=".length) ?? "";
    expect(runnerToken).toMatch(/^ab_/);
    const stored = textOf(await client.run.byId.query({ runId: run.id })) + textOf(events);
    for (const secret of [adminToken, runnerToken]) expect(stored).not.toContain(secret);
    // Nor in the database file at all, whatever table: the server keeps token hashes only.
    const files = [join(dataDir, "agentboard.db"), join(dataDir, "agentboard.db-wal")].filter((f) => existsSync(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const secret of [adminToken, runnerToken]) expect(bytes.includes(secret)).toBe(false);
    }
    // And what the member could have used is refused anyway: creating a workspace needs the admin.
    await expect(member.workspace.create.mutate({ name: "Mine", slug: "mine" })).rejects.toThrow();
  });
});
