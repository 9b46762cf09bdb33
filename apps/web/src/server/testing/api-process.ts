import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const entry = join(dirname(fileURLToPath(import.meta.url)), "..", "api-only.ts");

export interface ApiProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM (a clean shutdown) or SIGKILL (a crash), and wait for the exit. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
}

/**
 * Starts src/server/api-only.ts as its own process, an API replica: separate notifier,
 * separate connection pool, separate SSE connections. `env` is its configuration
 * (DATABASE_URL, AGENTBOARD_ADMIN_TOKEN, PORT …).
 */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    env: { ...process.env, AGENTBOARD_LOCAL_RUNNER: "0", HOST: "127.0.0.1", PORT: "0", NODE_ENV: "test", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`api process exited with ${code}: ${stderr}`));
    child.once("exit", onExit);
    lines.once("line", (line) => {
      child.off("exit", onExit);
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        reject(new Error(`unexpected first line from the api process: ${line}`));
      }
    });
  });
  // Keep draining stdout so the child never blocks on a full pipe.
  lines.on("line", () => undefined);
  return {
    url,
    child,
    stop: (signal = "SIGTERM") =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill(signal);
      }),
  };
}
