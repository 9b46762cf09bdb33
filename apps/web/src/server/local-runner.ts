import { hostname } from "node:os";
import path from "node:path";
import type { ApiCore } from "@agentboard/api";
import { createLogger, loadRunnerConfig, Runner } from "@agentboard/runner";

/**
 * The runner started beside the server by `npm start` (AGENTBOARD_LOCAL_RUNNER=0 turns it
 * off), so the embedded default works with one command. It is a real runner talking to
 * this server over HTTP, like any other.
 *
 * It uses the admin token rather than a runner token per workspace: the admin may claim,
 * sees every workspace, and so serves workspaces created after the server started without
 * minting and storing new secrets. The token stays in this process: children get a
 * scrubbed environment. Its other settings come from the same variables as the
 * `agentboard-runner` command (AGENTBOARD_RUNNER_CONCURRENCY, AGENTBOARD_AGENT_TIMEOUT,
 * ANTHROPIC_API_KEY…); worktrees go to `<data dir>/worktrees` unless
 * AGENTBOARD_WORKTREES_DIR says otherwise.
 */
export async function startLocalRunner(opts: { server: string; adminToken: string; core: ApiCore; dataDir: string }): Promise<() => Promise<void>> {
  const name = `local-${hostname()}`.replace(/[^A-Za-z0-9_.:@-]/g, "-").slice(0, 100);
  const config = loadRunnerConfig({
    argv: [],
    env: process.env,
    defaults: { worktreesDir: path.join(opts.dataDir, "worktrees"), name },
    // Always this server, with the admin token, serving every workspace.
    overrides: { server: opts.server, token: opts.adminToken, workspaces: [] },
  });
  const log = createLogger({ format: config.logFormat, fields: { runner: config.name }, write: (line) => console.log(`[runner] ${line}`) });
  const runner = new Runner({ config, log, baseEnv: process.env });
  await runner.start();
  return () => runner.stop();
}
