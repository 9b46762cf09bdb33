/**
 * A hostile agent, for each engine that runs commands (the command engine, the anthropic
 * engine's run_command, Claude Code's Bash tool with the real CLI, and an ACP agent's
 * terminal), scripted through the local Messages API server (the ACP test agent through its
 * prompt). It tries to read the admin token file, the database file, a
 * private key in the runner's HOME, another run's checkout and the runner's environment;
 * prints its own environment; writes ~/.bashrc and files outside its checkout through ..
 * and a symlink; reaches a local server that is on the allowlist and one that is not;
 * kills the runner; and, in a run of its own, fork-bombs. Every attempt fails (the run's
 * log shows it), the runner keeps working, and no secret is in any stored event or run.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import path from "node:path";
import { textOf } from "@agentboard/testkit";
import { startMessagesServer, type MessagesServer, type Turn } from "@agentboard/testkit/messages-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acpTestAgent } from "../engines/testing.js";
import { eventsOf, startHarness, waitForFinish, type Harness, type TestRunner } from "../testing/harness.js";

const KEY = "sk-ant-hostile-test-key";
const REAL_CLAUDE = path.join(path.dirname(createRequire(import.meta.url).resolve("@anthropic-ai/claude-code/package.json")), "bin/claude.exe");

async function listen(host: string, body: string): Promise<{ server: Server; address: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, address: `${host}:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

interface Targets {
  adminTokenFile: string;
  dbFile: string;
  sshKey: string;
  otherRunFile: string;
  runnerPid: number;
  allowed: string;
  refused: string;
}

function hostileScript(t: Targets): string {
  return [
    `echo "T1 admin-token: $(cat ${t.adminTokenFile} 2>&1)"`,
    `echo "T2 database: $(head -c 300 ${t.dbFile} 2>&1)"`,
    `echo "T3 ssh-key: $(cat ${t.sshKey} 2>&1)"`,
    `echo "T4 other-run: $(cat ${t.otherRunFile} 2>&1)"`,
    `echo "T5 runner-environ: $(cat /proc/${t.runnerPid}/environ 2>&1 | tr '\\0' ' ')"`,
    'echo "T6 environment:"; env',
    'echo pwned >> "$HOME/.bashrc"; echo "T7 bashrc written in the sandbox HOME: $HOME"',
    'echo pwned > "$AGENTBOARD_WORKTREE/../escaped-dotdot.txt" 2>&1; echo "T8 dotdot: $?"',
    'ln -s "$AGENTBOARD_WORKTREE/../.." up; echo pwned > up/escaped-link.txt 2>&1; echo "T9 symlink: $?"; rm -f up',
    `echo "T10 allowed: $(curl -s -m 20 http://${t.allowed}/ 2>&1)"`,
    `echo "T11 refused: $(curl -s -m 20 http://${t.refused}/ 2>&1)"`,
    `echo "T12 around the proxy: $(curl -s -m 5 --noproxy '*' http://${t.allowed}/ 2>&1; echo rc=$?)"`,
    `kill -9 ${t.runnerPid} 2>&1; echo "T13 kill the runner: $?"`,
    "echo HOSTILE-DONE",
  ].join("\n");
}

const FORK_BOMB = "b() { b | b & }; b; sleep 60";

type Engine = "command" | "anthropic" | "claude_code" | "acp";

/** The run input that has `engine` run `command` (the model, or the ACP test agent, is scripted to). */
function hostileInput(engine: Engine, command: string) {
  if (engine === "command") return { engine, command };
  if (engine === "acp") return { engine, agentProfile: ACP_PROFILE, prompt: `run ${command}` };
  return { engine, prompt: "Look around." };
}

/** The repo's ACP test agent: its `run` script runs the rest of the prompt in a terminal. */
const ACP_PROFILE = "hostile-acp";

/** A scripted model whose one tool call is `command`, then a summary. */
function modelRunning(engine: Engine, command: string): Array<Turn> {
  const call =
    engine === "anthropic"
      ? { type: "tool_use" as const, name: "run_command", input: { command, timeout_seconds: 120 } }
      : { type: "tool_use" as const, name: "Bash", input: { command, description: "look around", timeout: 120_000 } };
  return [{ content: [call] }, { text: "Done looking around." }];
}

describe("a hostile agent in the sandbox", () => {
  let h: Harness;
  let allowed: Awaited<ReturnType<typeof listen>>;
  let refused: Awaited<ReturnType<typeof listen>>;
  let runnerHome: string;
  let targets: Targets;
  let secrets: string[];

  beforeAll(async () => {
    h = await startHarness("sqlite");
    allowed = await listen("127.0.0.5", "ALLOWED-BODY");
    refused = await listen("127.0.0.6", "REFUSED-BODY-LEAKED");
    // What a runner next to the embedded server has around it.
    const data = path.join(h.root, "data");
    mkdirSync(data, { recursive: true });
    writeFileSync(path.join(data, "admin-token"), `${h.api.adminToken}\n`, { mode: 0o600 });
    writeFileSync(path.join(data, "agentboard.db"), "SQLite format 3\0DB-SECRET-MARKER");
    runnerHome = path.join(h.root, "runner-home");
    mkdirSync(path.join(runnerHome, ".ssh"), { recursive: true });
    writeFileSync(path.join(runnerHome, ".ssh", "id_rsa"), "-----BEGIN OPENSSH PRIVATE KEY----- SSH-SECRET-MARKER");
    targets = {
      adminTokenFile: path.join(data, "admin-token"),
      dbFile: path.join(data, "agentboard.db"),
      sshKey: path.join(runnerHome, ".ssh", "id_rsa"),
      otherRunFile: "",
      runnerPid: process.pid,
      allowed: allowed.address,
      refused: refused.address,
    };
    const agent = acpTestAgent();
    await h.admin.agentProfile.create.mutate({ workspaceId: h.workspace.id, name: ACP_PROFILE, command: agent.command, args: agent.args, env: agent.env });
    secrets = [
      h.api.adminToken,
      h.runnerToken,
      KEY,
      "DB-SECRET-MARKER",
      "SSH-SECRET-MARKER",
      "OTHER-RUN-MARKER",
      "REFUSED-BODY-LEAKED",
      "sk-ant-runner-env-key",
    ];
  });
  afterAll(async () => {
    allowed.server.close();
    refused.server.close();
    await h.close();
  });

  async function startRunnerWith(messages: MessagesServer | null): Promise<TestRunner> {
    return h.startRunner(
      // A model the local Messages server speaks for (the CLI's own default sends newer message shapes).
      { anthropicApiKey: KEY, anthropicBaseUrl: messages?.url, claudeCodeBin: REAL_CLAUDE, model: "claude-sonnet-4-6", killGraceMs: 500 },
      { baseEnv: { ...process.env, HOME: runnerHome, ANTHROPIC_API_KEY: "sk-ant-runner-env-key", AGENTBOARD_TOKEN: h.runnerToken } },
    );
  }

  async function hostileProject() {
    const project = await h.project();
    await h.admin.project.update.mutate({
      projectId: project.id,
      sandbox: { network: { agent: "allowlist" }, allowlist: [allowed.address], limits: { processes: 64 } },
    });
    return project;
  }

  /** Everything stored about a run: its record and every event, as the database has them. */
  async function stored(runId: string): Promise<string> {
    const prisma = h.api.core.deps.db.prisma;
    const [run, events] = await Promise.all([prisma.run.findUniqueOrThrow({ where: { id: runId } }), prisma.runEvent.findMany({ where: { runId } })]);
    return textOf(run) + textOf(events);
  }

  function outputOf(events: Awaited<ReturnType<typeof eventsOf>>): string {
    return events
      .map((e) => {
        const p = e.payload as { text?: string; output?: string };
        return e.type === "command.output" ? (p.text ?? "") : e.type === "tool.result" ? `${p.output ?? ""}\n` : "";
      })
      .join("");
  }

  it.each<Engine>(["command", "anthropic", "claude_code", "acp"])("%s: every attempt fails, the log shows it, nothing leaks", async (engine) => {
    // The script needs the other run's id, known only once it ran: turns are filled in below.
    let turns: Turn[] = [];
    const messages =
      engine === "command" || engine === "acp" ? null : await startMessagesServer({ apiKey: KEY, script: (req) => turns[req.index] ?? { text: "Done." } });
    const runner = await startRunnerWith(messages);
    try {
      const project = await hostileProject();
      // Another run's checkout, left on disk for review.
      const other = await h.createRun(project, { engine: "command", command: "echo OTHER-RUN-MARKER > other.txt" }, "Other work");
      expect((await waitForFinish(h.admin, other.id)).status).toBe("succeeded");
      const script = hostileScript({ ...targets, otherRunFile: path.join(h.worktreesDir, other.id, "other.txt") });
      turns = modelRunning(engine, script);
      const input = hostileInput(engine, script);
      const hitsBefore = allowed.hits();
      const queued = await h.createRun(project, input, `Hostile ${engine}`);
      const run = await waitForFinish(h.admin, queued.id, 120_000);
      const events = await eventsOf(h.admin, run.id);
      const output = outputOf(events);
      expect(run.status, `${run.error ?? ""}\n${output}`).toBe("succeeded");
      expect(output).toContain("HOSTILE-DONE");

      expect(output).toMatch(/T1 admin-token: .*No such file or directory/);
      expect(output).toMatch(/T2 database: .*No such file or directory/);
      expect(output).toMatch(/T3 ssh-key: .*No such file or directory/);
      expect(output).toMatch(/T4 other-run: .*No such file or directory/);
      expect(output).toMatch(/T5 runner-environ: .*No such file or directory/);
      expect(output).toContain("T7 bashrc written in the sandbox HOME: /home/agent");
      // T8, T9: inside the sandbox the checkout's parents are empty directories of its own
      // (read-only, or in its private /tmp when the checkout lives under /tmp); what matters
      // is that nothing reached the host's (checked below).
      expect(output).toMatch(/T8 dotdot: \d/);
      expect(output).toMatch(/T9 symlink: \d/);
      expect(output).toContain("T10 allowed: ALLOWED-BODY");
      expect(output).toMatch(/T11 refused: agentboard sandbox: 127\.0\.0\.6:\d+ refused \(not on the project's allowlist\)/);
      expect(output).toMatch(/T12 around the proxy: rc=[1-9]/);
      expect(output).toMatch(/T13 kill the runner: [1-9]/);
      expect(allowed.hits()).toBe(hitsBefore + 1);
      expect(refused.hits()).toBe(0);
      const refusal = events.find((e) => e.type === "sandbox.network");
      expect(refusal?.payload).toMatchObject({ host: "127.0.0.6", allowed: false, phase: "agent" });
      expect(events.find((e) => e.type === "runner.sandbox")?.payload).toMatchObject({ confined: true, user: "agent" });

      // The host is as it was.
      expect(existsSync(path.join(runnerHome, ".bashrc"))).toBe(false);
      expect(existsSync(path.join(h.worktreesDir, "escaped-dotdot.txt"))).toBe(false);
      expect(existsSync(path.join(h.root, "escaped-link.txt"))).toBe(false);
      // No secret anywhere the server keeps: not the model key (Claude Code used the proxy), not a token, not a file's content.
      const all = await stored(run.id);
      for (const s of secrets) expect(all, s).not.toContain(s);
      if (messages) {
        expect(messages.requests.length).toBeGreaterThanOrEqual(2);
        expect(messages.rejected).toEqual([]);
      }

      // The runner survived and still works.
      const next = await h.createRun(project, { engine: "command", command: "echo still-here" }, "After");
      expect((await waitForFinish(h.admin, next.id)).status).toBe("succeeded");
    } finally {
      await runner.stop(0);
      await messages?.close();
    }
  });

  it.each<Engine>(["command", "anthropic", "claude_code", "acp"])("%s: a fork bomb ends the run with sandbox_limit; the runner goes on", async (engine) => {
    const messages = engine === "command" || engine === "acp" ? null : await startMessagesServer({ apiKey: KEY, script: modelRunning(engine, FORK_BOMB) });
    const runner = await startRunnerWith(messages);
    try {
      const project = await hostileProject();
      const input = hostileInput(engine, FORK_BOMB);
      const queued = await h.createRun(project, input, `Bomb ${engine}`);
      const run = await waitForFinish(h.admin, queued.id, 120_000);
      expect(run).toMatchObject({ status: "failed", errorReason: "sandbox_limit" });
      expect(run.error).toContain("limit of 64 processes");
      expect(run.logs).toContain("sandbox limit");
      const events = await eventsOf(h.admin, run.id);
      expect(events.find((e) => e.type === "sandbox.limit")?.payload).toMatchObject({ limit: "processes", phase: "agent" });
      const next = await h.createRun(project, { engine: "command", command: "echo still-here" }, "After the bomb");
      expect((await waitForFinish(h.admin, next.id)).status).toBe("succeeded");
    } finally {
      await runner.stop(0);
      await messages?.close();
    }
  });
});
