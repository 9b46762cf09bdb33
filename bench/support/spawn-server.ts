import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

const SOURCE = "--conditions=agentboard-source";

/**
 * Starts bench/support/api-server.mjs in its own process and waits for its URL. By default
 * on the TypeScript sources through tsx (what the tests run); with `BENCH_SERVER=dist`, on
 * the compiled packages with plain `node`, as `npm start` runs the server — the figure to
 * quote for memory, since tsx keeps about 90 MB of its own in the process (run
 * `npm run build` first).
 */
export async function spawnApiServer(env: Record<string, string>): Promise<{ url: string; token: string; child: ChildProcess; stop(): Promise<void> }> {
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const compiled = process.env.BENCH_SERVER === "dist";
  const nodeOptions = (process.env.NODE_OPTIONS ?? "").replace(SOURCE, "").trim();
  const child = spawn(process.execPath, [...profile, ...(compiled ? [] : ["--import", "tsx"]), join(here, "api-server.mjs")], {
    env: { ...process.env, ...(compiled ? { NODE_OPTIONS: nodeOptions } : { NODE_OPTIONS: `${nodeOptions} ${SOURCE}`.trim() }), ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`api server exited with ${code}`)));
    lines.once("line", (line) => resolve(JSON.parse(line) as { url: string; token: string }));
  });
  return {
    ...ready,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
