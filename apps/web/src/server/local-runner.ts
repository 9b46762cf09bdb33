import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { hostname } from "node:os";
import path from "node:path";
import { mintLocalRunnerToken, type ApiCore } from "@agentboard/api";

/**
 * The runner started beside the server by `npm start` (AGENTBOARD_LOCAL_RUNNER=0 turns it
 * off), so the embedded default works with one command. It is an `agentboard-runner`
 * process of its own, talking to this server over HTTP like any other runner, with only
 * what it needs:
 *
 * - a token of its own, role `runner` across every workspace (it can claim and report,
 *   nothing else), minted at start and revoked at stop — never the admin token;
 * - the server's environment minus the server's own secrets (the admin token, the
 *   database URL); its runs' processes get an allowlisted environment in its sandbox;
 * - its worktrees in `<data dir>/worktrees` (AGENTBOARD_WORKTREES_DIR to change), of which
 *   each sandbox sees only its own run's checkout: the data directory itself (the SQLite
 *   file, the admin token file) is never bound into a sandbox.
 *
 * It is stopped before the server closes (it reports its runs over HTTP), restarted when
 * it dies, and ends on its own when the server's process is gone (its stdin closes).
 */

// The server's own secrets and settings: no business of the runner's.
const SERVER_ONLY = new Set(["AGENTBOARD_ADMIN_TOKEN", "DATABASE_URL", "AGENTBOARD_TEST_PG_URL", "PGPASSWORD", "AGENTBOARD_TOKEN", "AGENTBOARD_TOKEN_FILE"]);

export function runnerEnv(source: NodeJS.ProcessEnv, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && !SERVER_ONLY.has(k)) env[k] = v;
  return { ...env, ...extra };
}

const runnerBin = () => path.join(path.dirname(createRequire(import.meta.url).resolve("@agentboard/runner/package.json")), "bin/agentboard-runner.mjs");

export interface LocalRunner {
  /** The runner process running now (null between a death and its restart). */
  readonly process: ChildProcess | null;
  stop(): Promise<void>;
}

export async function startLocalRunner(opts: { server: string; core: ApiCore; dataDir: string; log?: (line: string) => void }): Promise<LocalRunner> {
  const log = opts.log ?? ((line) => console.log(line));
  const credential = await mintLocalRunnerToken(opts.core.deps);
  const name = `local-${hostname()}`.replace(/[^A-Za-z0-9_.:@-]/g, "-").slice(0, 100);
  const env = runnerEnv(process.env, {
    AGENTBOARD_SERVER: opts.server,
    AGENTBOARD_TOKEN: credential.token,
    // Every workspace, whatever the server's environment says.
    AGENTBOARD_WORKSPACE: "",
    AGENTBOARD_WORKTREES_DIR: process.env.AGENTBOARD_WORKTREES_DIR || path.join(opts.dataDir, "worktrees"),
    AGENTBOARD_RUNNER_NAME: process.env.AGENTBOARD_RUNNER_NAME || name,
    AGENTBOARD_RUNNER_LIFELINE: "stdin",
  });

  let child: ChildProcess | null = null;
  let stopping = false;
  let backoff = 1_000;
  let restartTimer: NodeJS.Timeout | null = null;
  let exited: Promise<void> = Promise.resolve();

  const launch = () => {
    restartTimer = null;
    const startedAt = Date.now();
    // `as`: Next.js types make NODE_ENV required on ProcessEnv.
    const proc = spawn(process.execPath, [runnerBin()], { env: env as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "pipe"] });
    child = proc;
    for (const stream of [proc.stdout, proc.stderr]) {
      let buffer = "";
      stream.setEncoding("utf8");
      stream.on("data", (text: string) => {
        buffer += text;
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        for (const line of lines) if (line !== "") log(`[runner] ${line}`);
      });
    }
    exited = new Promise((resolve) => {
      proc.once("exit", (code, signal) => {
        child = null;
        resolve();
        if (stopping) return;
        // A runner that ran a while before dying is restarted promptly; a crash loop backs off.
        if (Date.now() - startedAt > 60_000) backoff = 1_000;
        log(`[agentboard] the local runner exited (${signal ?? `code ${code}`}); restarting in ${backoff / 1_000}s`);
        restartTimer = setTimeout(launch, backoff);
        restartTimer.unref();
        backoff = Math.min(backoff * 2, 30_000);
      });
    });
  };
  launch();

  return {
    get process() {
      return child;
    },
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const proc = child;
      if (proc) {
        // SIGTERM: running agents get the runner's shutdown grace, then are reported stopped.
        const force = setTimeout(() => proc.kill("SIGKILL"), 60_000);
        proc.kill("SIGTERM");
        await exited;
        clearTimeout(force);
      }
      await credential.revoke().catch(() => undefined);
    },
  };
}
