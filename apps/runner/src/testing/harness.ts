/**
 * Runner tests against the real thing: an API core on a fresh database of the provider,
 * served over HTTP on 127.0.0.1, real git repositories, real child processes.
 */
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { listenApi, type ApiCoreOptions } from "@agentboard/api";
import { git, initRepo, writeFiles } from "@agentboard/testkit";
import { startTestApi, type TestApi } from "@agentboard/api/testing";
import { createAgentboardClient, type AgentboardClient, type RouterInputs, type RouterOutputs } from "@agentboard/client";
import type { Provider } from "@agentboard/db";
import { isProcessAlive } from "@agentboard/sandbox";
import { loadRunnerConfig, type RunnerConfig, type RunnerConfigInput } from "../config.js";
import { silentLogger } from "../output/log.js";
import { Runner } from "../lifecycle/runner.js";
import type { RunOutcome, RunnerObserver } from "../types.js";

type RunEvent = RouterOutputs["run"]["events"][number];
type Project = RouterOutputs["project"]["create"];

export { git, writeFiles };

/** A repository with `main` and one commit of `files`. */
export function makeRepo(dir: string, files: Record<string, string> = {}): string {
  return initRepo(dir, {
    "README.md": "# demo\n",
    "src/app.ts": "export const a = 1;\nexport const b = 2;\n",
    ".gitignore": ".cache/\nnode_modules/\n",
    ...files,
  });
}

export interface TestRunner extends Runner {
  /** Resolves with how the runner ended the run (reported, lease lost…). */
  finished(runId: string): Promise<RunOutcome>;
}

export interface Harness {
  provider: Provider;
  api: TestApi;
  url: string;
  admin: AgentboardClient;
  workspace: RouterOutputs["workspace"]["create"];
  board: RouterOutputs["board"]["create"];
  runnerToken: string;
  /** Temp directory for repositories and worktrees, removed on close. */
  root: string;
  worktreesDir: string;
  project(opts?: Partial<RouterInputs["project"]["create"]> & { files?: Record<string, string> }): Promise<Project & { repo: string }>;
  createRun(project: Project, input: Omit<RouterInputs["run"]["create"], "cardId">, title?: string): Promise<RouterOutputs["run"]["create"]>;
  config(over?: RunnerConfigInput): RunnerConfig;
  /** An in-process runner, stopped on close. */
  startRunner(over?: RunnerConfigInput, extra?: { fetch?: typeof fetch; observer?: RunnerObserver; baseEnv?: NodeJS.ProcessEnv }): Promise<TestRunner>;
  close(): Promise<void>;
}

let counter = 0;

export async function startHarness(provider: Provider, opts: Partial<ApiCoreOptions> = {}): Promise<Harness> {
  // The repositories the tests make live in `root`: it is a repository root of the server.
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), "agentboard-runner-test-")));
  const api = await startTestApi(provider, { repoRoots: [root], ...opts });
  const http = await listenApi(api.core);
  const admin = createAgentboardClient({ url: http.url, token: api.adminToken });
  const slug = `ws-${provider}-${++counter}`;
  const workspace = await admin.workspace.create.mutate({ name: slug, slug });
  const board = await admin.board.create.mutate({ workspaceId: workspace.id, name: "Main" });
  const { token: runnerToken } = await admin.token.create.mutate({ workspaceId: workspace.id, role: "runner", name: "test-runner" });
  const worktreesDir = path.join(root, "worktrees");
  const runners: Runner[] = [];
  let projects = 0;

  const harness: Harness = {
    provider,
    api,
    url: http.url,
    admin,
    workspace,
    board,
    runnerToken,
    root,
    worktreesDir,
    async project(p = {}) {
      const { files, ...input } = p;
      const repo = makeRepo(path.join(root, `repo-${++projects}`), files);
      const project = await admin.project.create.mutate({ workspaceId: workspace.id, name: `app-${projects}`, repoPath: repo, baseBranch: "main", ...input });
      return { ...project, repo };
    },
    async createRun(project, input, title = "Fix the bug") {
      const card = await admin.card.create.mutate({ boardId: board.id, projectId: project.id, title });
      return admin.run.create.mutate({ cardId: card.id, ...input });
    },
    config(over = {}) {
      return loadRunnerConfig({
        argv: [],
        env: {},
        overrides: {
          server: http.url,
          token: runnerToken,
          worktreesDir,
          name: "test-runner",
          claimWaitMs: 5_000,
          ...over,
        },
      });
    },
    async startRunner(over = {}, extra = {}) {
      const outcomes = new Map<string, RunOutcome>();
      const waiting = new Map<string, (o: RunOutcome) => void>();
      const observer: RunnerObserver = {
        ...extra.observer,
        onFinished(runId, outcome) {
          outcomes.set(runId, outcome);
          waiting.get(runId)?.(outcome);
          extra.observer?.onFinished?.(runId, outcome);
        },
      };
      const runner = new Runner({ config: harness.config(over), log: silentLogger, fetch: extra.fetch, observer, baseEnv: extra.baseEnv ?? process.env });
      runners.push(runner);
      await runner.start();
      const finished = (runId: string) =>
        new Promise<RunOutcome>((resolve) => {
          const known = outcomes.get(runId);
          if (known) resolve(known);
          else waiting.set(runId, resolve);
        });
      return Object.assign(runner, { finished });
    },
    async close() {
      await Promise.all(runners.map((r) => r.stop(0)));
      await http.close();
      await api.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return harness;
}

const FINAL = new Set(["run.succeeded", "run.failed", "run.cancelled"]);

/** Resolves with the first event of the run (past or future) that matches. */
export function waitForEvent(client: AgentboardClient, runId: string, match: (e: RunEvent) => boolean, timeoutMs = 30_000): Promise<RunEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`no matching event on run ${runId} within ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = client.run.onEvents.subscribe(
      { runId, lastEventId: null },
      {
        onData(e) {
          if (!match(e.data)) return;
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(e.data);
        },
        onError(err) {
          clearTimeout(timer);
          reject(err);
        },
      },
    );
  });
}

/** Resolves once the run's command output (so far and to come) contains every text; returns all of it. */
export function waitForOutput(client: AgentboardClient, runId: string, texts: string | string[], timeoutMs = 30_000): Promise<string> {
  const wanted = typeof texts === "string" ? [texts] : texts;
  let seen = "";
  return waitForEvent(
    client,
    runId,
    (e) => {
      if (e.type === "command.output" || e.type === "tool.result") {
        const p = e.payload as { text?: unknown; output?: unknown };
        seen += typeof p.text === "string" ? p.text : typeof p.output === "string" ? p.output : "";
      }
      return wanted.every((t) => seen.includes(t));
    },
    timeoutMs,
  ).then(() => seen);
}

/** Waits for the run's terminal event and returns the run as the API shows it. */
export async function waitForFinish(client: AgentboardClient, runId: string, timeoutMs = 30_000): Promise<RouterOutputs["run"]["byId"]> {
  await waitForEvent(client, runId, (e) => FINAL.has(e.type), timeoutMs);
  return client.run.byId.query({ runId });
}

export async function eventsOf(client: AgentboardClient, runId: string): Promise<RunEvent[]> {
  return client.run.events.query({ runId, limit: 1000 });
}

/** Pids a test command printed as `<label>:<pid>`. */
export function pidsFrom(text: string, label: string): number[] {
  return [...text.matchAll(new RegExp(`${label}:(\\d+)`, "g"))].map((m) => Number(m[1]));
}

/**
 * The host pid of the process of the run `runId` that runs `program` and knows itself as
 * `pid`. A sandboxed command's `$$` is a pid of its own pid namespace (the last entry of
 * `NSpid` in its /proc status; unconfined, the same pid), and every process of a run has a
 * namespace of its own, so the same inner pid is common: the program tells them apart.
 * Null when no such process is alive.
 */
export async function hostPidOf(runId: string, pid: number, program: string): Promise<number | null> {
  for (const name of await readdir("/proc")) {
    const hostPid = Number(name);
    if (!Number.isInteger(hostPid) || hostPid === process.pid) continue;
    const status = await readFile(`/proc/${hostPid}/status`, "utf8").catch(() => "");
    const nspid = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/).map(Number);
    if (nspid?.at(-1) !== pid) continue;
    if ((await readFile(`/proc/${hostPid}/comm`, "utf8").catch(() => "")).trim() !== program) continue;
    const environ = await readFile(`/proc/${hostPid}/environ`, "utf8").catch(() => "");
    if (environ.split("\0").includes(`AGENTBOARD_RUN_ID=${runId}`) && isProcessAlive(hostPid)) return hostPid;
  }
  return null;
}

/**
 * Live processes working inside `dir`, as the host sees them. A sandboxed command's `$$`
 * is a pid of its own pid namespace, meaningless outside; its working directory is the
 * checkout at the same path on both sides.
 */
export async function processesIn(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => null);
    if (cwd !== null && (cwd === dir || cwd.startsWith(`${dir}/`)) && isProcessAlive(pid)) pids.push(pid);
  }
  return pids;
}
