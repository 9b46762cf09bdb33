// npm run bench:sandbox — what the sandbox costs. A trivial command (`/bin/sh -c true`) is
// started many times, alternately without a sandbox and in one (as a check runs: no
// network; and as a networked phase runs: with the egress proxy bridged in), in the same
// run; prints the medians and the overhead per process (goal: ≤ 30 ms at the median).
// Then the runner's claim → engine start, now that every run's checkout is a private
// clone and every process is sandboxed, against its goal (≤ 1.2 × git worktree add + 100 ms).
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parsePolicy, plainStarter, SandboxHost, spawnGroup, type ProcessStarter } from "@agentboard/sandbox";
import { measureClaimToStart, median } from "./support/claim-to-start.js";

const N = Number(process.env.BENCH_PROCESSES ?? 200);
const root = realpathSync(mkdtempSync(path.join(tmpdir(), "agentboard-bench-sandbox-")));
const checkout = path.join(root, "checkout");
mkdirSync(checkout);

async function once(starter: ProcessStarter): Promise<number> {
  const t0 = performance.now();
  const exit = await starter.start("/bin/sh", ["-c", "true"], { cwd: checkout }).done;
  if (exit.code !== 0) throw new Error(`the command exited with ${exit.code}`);
  return performance.now() - t0;
}

const host = await SandboxHost.create({ stateDir: path.join(root, "state"), pathVar: process.env.PATH });
if (!host.support.available) throw new Error(`no sandbox here: ${host.support.reason}`);
const box = host.openRun({
  runId: "bench",
  projectId: "bench",
  checkout,
  readOnly: [],
  policy: parsePolicy({ network: { setup: "open" } }),
  source: process.env,
  facts: { AGENTBOARD_RUN_ID: "bench" },
});
try {
  // bubblewrap's own cost, for scale: every namespace, nothing bound but /usr.
  const bare: ProcessStarter = {
    confined: true,
    start: (file, args, opts) =>
      spawnGroup(
        "bwrap",
        [
          "--unshare-all",
          "--ro-bind",
          "/usr",
          "/usr",
          "--symlink",
          "usr/bin",
          "/bin",
          "--symlink",
          "usr/lib",
          "/lib",
          "--symlink",
          "usr/lib64",
          "/lib64",
          "--",
          file,
          ...args,
        ],
        {
          ...opts,
          cwd: "/",
          env: { PATH: "/usr/bin:/bin" },
        },
      ),
  };
  const kinds: Record<string, ProcessStarter> = {
    plain: plainStarter({ PATH: "/usr/bin:/bin" }),
    "bwrap alone": bare,
    sandbox: box.starter("checks"),
    "sandbox + proxy": box.starter("setup"),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  // Interleaved, so that the machine's load falls on all three alike; ten warm-up rounds.
  for (let i = -10; i < N; i++) {
    for (const [kind, starter] of Object.entries(kinds)) {
      const ms = await once(starter);
      if (i >= 0) times[kind]!.push(ms);
    }
  }
  const plain = median(times.plain!);
  console.log(`${N} starts of /bin/sh -c true each, medians (limits enforced by: ${JSON.stringify(host.support.limits)}):`);
  for (const [kind, xs] of Object.entries(times)) {
    const m = median(xs);
    const p90 = [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] ?? NaN;
    const overhead =
      kind === "plain" || kind === "bwrap alone" ? "" : `, overhead ${(m - plain).toFixed(1)} ms → ${m - plain <= 30 ? "within" : "NOT within"} the 30 ms goal`;
    console.log(`  ${kind.padEnd(16)} ${m.toFixed(1)} ms (p90 ${p90.toFixed(1)} ms)${overhead}`);
  }
} finally {
  await box.close();
  await host.close();
  rmSync(root, { recursive: true, force: true });
}

console.log("");
console.log("claim → engine start through the runner:");
const f = await measureClaimToStart(Number(process.env.BENCH_FILES ?? 10_000), Number(process.env.BENCH_ROUNDS ?? 5), () => undefined);
console.log(
  `  ${f.files} files, ${f.rounds} rounds: git worktree add ${f.gitMs.toFixed(0)} ms, runner ` +
    `${f.runnerMs.toFixed(0)} ms (checkout ${f.worktreeMs.toFixed(0)} ms)`,
);
console.log(`  goal: ≤ 1.2 × git + 100 ms = ${f.goalMs.toFixed(0)} ms → ${f.runnerMs <= f.goalMs ? "met" : "NOT met"}`);
