import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Proc {
  child: ChildProcess;
  /** The last lines it printed, for failure messages. */
  output(): string;
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
}

/** Runs compiled JavaScript (`npm run build` first), as production does: plain `node`, no tsx. */
function launch(script: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [join(ROOT, script), ...args], {
    cwd: ROOT,
    // No `--conditions=agentboard-source` from a caller's NODE_OPTIONS: the packages' dist/, not their sources.
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_OPTIONS: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return {
    child,
    output: () => out,
    stop: (signal = "SIGTERM") =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const force = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.once("exit", () => {
          clearTimeout(force);
          done();
        });
        child.kill(signal);
      }),
  };
}

/**
 * A real runner process (apps/runner) serving one workspace of `server`. The anthropic
 * engine talks to `anthropicBaseUrl` (the testkit Messages server).
 */
export function startRunner(opts: { server: string; token: string; workspaceId: string; anthropicBaseUrl?: string; name?: string; labels?: string[] }): Proc {
  const worktrees = mkdtempSync(join(tmpdir(), "agentboard-e2e-worktrees-"));
  return launch(
    "apps/runner/bin/agentboard-runner.mjs",
    [
      "--server",
      opts.server,
      "--workspace",
      opts.workspaceId,
      "--worktrees-dir",
      worktrees,
      "--name",
      opts.name ?? "e2e-runner",
      "--heartbeat",
      "2s",
      "--claim-wait",
      "5s",
      "--event-flush",
      "50ms",
      ...(opts.anthropicBaseUrl ? ["--anthropic-base-url", opts.anthropicBaseUrl] : []),
      ...(opts.labels ? ["--labels", opts.labels.join(",")] : []),
    ],
    { AGENTBOARD_TOKEN: opts.token, ANTHROPIC_API_KEY: "sk-ant-e2e-test-key" },
  );
}

/** The production server (build first) on its own port and data directory. */
export async function startWebServer(opts: {
  port: number;
  dataDir: string;
  adminToken: string;
  env?: Record<string, string>;
}): Promise<Proc & { url: string }> {
  const url = `http://127.0.0.1:${opts.port}`;
  const proc = launch("apps/web/dist/server.js", [], {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(opts.port),
    AGENTBOARD_DATA_DIR: opts.dataDir,
    AGENTBOARD_ADMIN_TOKEN: opts.adminToken,
    AGENTBOARD_LOCAL_RUNNER: "0",
    AGENTBOARD_REPO_ROOTS: realpathSync(tmpdir()),
    ...opts.env,
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`server exited:\n${proc.output()}`);
    const ok = await fetch(`${url}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { ...proc, url };
    if (Date.now() > deadline) throw new Error(`server did not come up:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
