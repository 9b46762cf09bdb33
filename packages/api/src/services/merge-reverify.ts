import { spawn } from "node:child_process";
import { mergeBaseIntoBranchForVerification } from "@agentboard/git";

/**
 * Re-verification on the integrated state: the base branch merged into the run branch in
 * a throwaway worktree, and the run's automatic checks run again there. A run that passed
 * its checks against an old base can still break once combined with what landed since;
 * this is the last look before the merge.
 *
 * The commands are shell by design — an admin wrote them into the workflow (they were
 * copied onto the run's DoD items) or the project's setup script. Nothing from a request
 * is ever part of a command; run facts reach it as environment variables.
 */

export const DEFAULT_CHECK_TIMEOUT_MS = 10 * 60_000;
const OUTPUT_TAIL_CHARS = 16 * 1024;
const KILL_GRACE_MS = 2_000;

export interface ReverifyCheck {
  key: string;
  title: string;
  required: boolean;
  command: string;
}

export interface CheckRun {
  key: string;
  title: string;
  required: boolean;
  command: string;
  exitCode: number | null;
  passed: boolean;
  timedOut: boolean;
  durationMs: number;
  /** The end of stdout and stderr, interleaved. */
  output: string;
}

export interface ReverifyReport {
  passed: boolean;
  baseCommit: string;
  branchCommit: string;
  /** The integrated commit the checks ran on. */
  head: string;
  /** Files in conflict when the base does not merge into the branch; no check ran. */
  conflict?: string[];
  setup: CheckRun | null;
  checks: CheckRun[];
}

export interface ReverifyInput {
  runId: string;
  repoPath: string;
  baseBranch: string;
  branch: string;
  setupScript: string | null;
  checks: ReverifyCheck[];
  timeoutMs?: number;
}

/**
 * The environment checks run with: enough to find tools, nothing of the server's own
 * (database URL, API keys, tokens) — a check is project code, not a server component.
 */
function checkEnv(runId: string, dir: string): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "TMPDIR", "TZ"];
  // `as`: Next.js types make NODE_ENV required on ProcessEnv, and the web build type-checks this file.
  const env = {} as NodeJS.ProcessEnv;
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, CI: "1", AGENTBOARD_RUN_ID: runId, AGENTBOARD_REVERIFY: "1", AGENTBOARD_WORKTREE: dir };
}

class Tail {
  private text = "";
  private cut = false;
  constructor(private readonly max: number) {}
  push(chunk: string) {
    this.text += chunk;
    if (this.text.length > this.max * 2) {
      this.text = this.text.slice(-this.max);
      this.cut = true;
    }
  }
  toString() {
    return this.cut || this.text.length > this.max ? `…${this.text.slice(-this.max)}` : this.text;
  }
}

/** `/bin/sh -c` in its own process group, so a timeout kills everything it started. */
export function runCheckCommand(
  spec: { key: string; title: string; required: boolean; command: string },
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<CheckRun> {
  const started = Date.now();
  const out = new Tail(OUTPUT_TAIL_CHARS);
  return new Promise((resolve) => {
    let timedOut = false;
    let settled = false;
    const child = spawn("/bin/sh", ["-c", spec.command], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup("SIGTERM");
      setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS).unref();
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (s: string) => out.push(s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => out.push(s));
    const finish = (exitCode: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Leftover children of the check (a server it started) go with it.
      killGroup("SIGKILL");
      if (timedOut) out.push(`\n[agentboard] timed out after ${timeoutMs} ms\n`);
      resolve({ ...spec, exitCode, passed: exitCode === 0 && !timedOut, timedOut, durationMs: Date.now() - started, output: out.toString() });
    };
    child.on("error", (err) => {
      out.push(`could not start /bin/sh: ${err.message}\n`);
      finish(127);
    });
    child.on("close", (code) => finish(code));
  });
}

export async function reverifyIntegratedState(input: ReverifyInput): Promise<ReverifyReport> {
  const timeoutMs = input.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const vt = await mergeBaseIntoBranchForVerification({ repoPath: input.repoPath, baseBranch: input.baseBranch, branch: input.branch });
  try {
    const base = { baseCommit: vt.baseCommit, branchCommit: vt.branchCommit, head: vt.head };
    if (vt.conflict) return { ...base, passed: false, conflict: vt.conflict, setup: null, checks: [] };
    const env = checkEnv(input.runId, vt.dir);
    // A fresh worktree has no installed dependencies; the project's setup script is what
    // the runner ran before the agent, so it runs here too.
    let setup: CheckRun | null = null;
    if (input.setupScript) {
      setup = await runCheckCommand({ key: "setup", title: "Project setup script", required: true, command: input.setupScript }, vt.dir, env, timeoutMs);
      if (!setup.passed) return { ...base, passed: false, setup, checks: [] };
    }
    const checks: CheckRun[] = [];
    for (const c of input.checks) checks.push(await runCheckCommand(c, vt.dir, env, timeoutMs));
    // Optional items are reported but do not block, as in the merge gate.
    return { ...base, passed: checks.every((c) => c.passed || !c.required), setup, checks };
  } finally {
    await vt.cleanup();
  }
}
