// npm run bench:start — how long `npm start` takes to a healthy server (/api/health answers
// 200), cold (no build output, no turbo cache: it builds everything first) and warm (the build
// is up to date), how long the compiled server alone takes (`node apps/web/dist/server.js`),
// and the idle RSS of the server process. Prints each beside its goal (warm start ≤ 2 s,
// idle RSS ≤ 200 MB) and the process tree `npm start` leaves running.
//
// The cold start deletes this checkout's build output (every dist/, apps/web/.next and the
// turbo cache) and rebuilds it; `-- --no-cold` skips it. Each start gets a fresh data
// directory (an embedded SQLite database) and, as `npm start` does by default, a local runner.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WARM_ROUNDS = 3;
const IDLE_MS = 5_000;
const { values: flags } = parseArgs({ options: { "no-cold": { type: "boolean", default: false } } });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

interface Proc {
  pid: number;
  ppid: number;
  rssKb: number;
  command: string;
}

function readProc(pid: number): Proc | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => /^(\S+):\s+(.*)$/m.exec(status.split("\n").find((l) => l.startsWith(`${name}:`)) ?? "")?.[2] ?? "";
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    return { pid, ppid: Number(field("PPid")), rssKb: Number.parseInt(field("VmRSS"), 10) || 0, command };
  } catch {
    return null; // gone meanwhile
  }
}

/** `root` and every process below it, depth first, with their depth. */
function processTree(root: number): Array<Proc & { depth: number }> {
  const all = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== null);
  const out: Array<Proc & { depth: number }> = [];
  const walk = (pid: number, depth: number) => {
    const proc = all.find((p) => p.pid === pid);
    if (!proc) return;
    out.push({ ...proc, depth });
    for (const child of all.filter((p) => p.ppid === pid)) walk(child.pid, depth + 1);
  };
  walk(root, 0);
  return out;
}

interface Started {
  child: ChildProcess;
  ms: number;
  port: number;
}

async function startToHealthy(command: string[], label: string): Promise<Started> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "agentboard-bench-start-"));
  const t0 = performance.now();
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    // NODE_OPTIONS cleared: this script runs with `--conditions=agentboard-source`, the server must not.
    env: {
      ...process.env,
      NODE_OPTIONS: "",
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      HOST: "127.0.0.1",
      PORT: String(port),
      AGENTBOARD_DATA_DIR: dataDir,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const keep = (c: Buffer) => {
    output = (output + c.toString()).slice(-8_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`http://127.0.0.1:${port}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, ms: performance.now() - t0, port };
    if (Date.now() > deadline) throw new Error(`${label} was not healthy within 15 minutes:\n${output}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // The whole group: npm, the server and its local runner.
  process.kill(-child.pid!, "SIGTERM");
  const force = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 30_000);
  await exited;
  clearTimeout(force);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (kb: number) => `${Math.round(kb / 1024)} MB`;
const rows: Array<[string, string, string]> = [];
const row = (label: string, value: string, goal: string, met?: boolean) => {
  rows.push([label, value, `${goal}${met === undefined ? "" : met ? " → met" : " → NOT met"}`]);
  console.log(`${label.padEnd(48)} ${value.padStart(10)}   ${rows.at(-1)![2]}`);
};

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} (1, 5, 15 min)`,
);
if (!flags["no-cold"]) {
  for (const dir of ["apps", "packages"]) {
    for (const pkg of readdirSync(join(ROOT, dir))) rmSync(join(ROOT, dir, pkg, "dist"), { recursive: true, force: true });
  }
  for (const out of ["apps/web/.next", ".turbo", "node_modules/.cache/turbo"]) rmSync(join(ROOT, out), { recursive: true, force: true });
  const cold = await startToHealthy(["npm", "start"], "cold npm start");
  row("cold `npm start` → healthy (builds everything)", seconds(cold.ms), "—");
  await stop(cold.child);
}

const warm: number[] = [];
let idle: { server: Proc; tree: Array<Proc & { depth: number }> } | null = null;
for (let i = 0; i < WARM_ROUNDS; i++) {
  const started = await startToHealthy(["npm", "start"], "warm npm start");
  warm.push(started.ms);
  if (i === 0) {
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const tree = processTree(started.child.pid!);
    const server = tree.find((p) => p.command.includes("apps/web/dist/server.js"));
    if (!server) throw new Error(`no server process under npm start:\n${tree.map((p) => p.command).join("\n")}`);
    idle = { server: readProc(server.pid) ?? server, tree };
  }
  await stop(started.child);
}
row(`warm \`npm start\` → healthy (median of ${WARM_ROUNDS})`, seconds(median(warm)), "≤ 2 s", median(warm) <= 2_000);

const alone: number[] = [];
for (let i = 0; i < WARM_ROUNDS; i++) {
  const started = await startToHealthy([process.execPath, "apps/web/dist/server.js"], "node apps/web/dist/server.js");
  alone.push(started.ms);
  await stop(started.child);
}
row(`\`node apps/web/dist/server.js\` → healthy (median of ${WARM_ROUNDS})`, seconds(median(alone)), "≤ 2 s", median(alone) <= 2_000);

if (idle) {
  row(`idle RSS of the server (${IDLE_MS / 1000} s after healthy)`, mb(idle.server.rssKb), "≤ 200 MB", idle.server.rssKb <= 200 * 1024);
  console.log("\nthe processes of `npm start` (RSS):");
  for (const p of idle.tree) console.log(`${"  ".repeat(p.depth + 1)}${mb(p.rssKb).padStart(7)}  ${p.command.slice(0, 120)}`);
}
console.log(
  `\nload average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} (1, 5, 15 min)`,
);
