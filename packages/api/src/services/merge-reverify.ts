import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { mergeBaseIntoBranchForVerification } from "@agentboard/git";
import { parsePolicy, SandboxHost, type Phase, type RunSandbox, type SandboxPolicy } from "@agentboard/sandbox";
import { conflict } from "../errors.js";

/**
 * Re-verification on the integrated state: the base branch merged into the run branch in
 * a throwaway private clone, and the run's automatic checks run again there. A run that
 * passed its checks against an old base can still break once combined with what landed
 * since; this is the last look before the merge.
 *
 * The commands are repository code (the project's setup script, the workflow's checks), so
 * they never run in the server's own environment: each runs in a bubblewrap sandbox with
 * the policy of the project's runs (docs/sandbox.md) — the clone read-write, the
 * repository's objects read-only, a private /tmp and a fresh HOME, no data directory, no
 * view of the server's processes, none of its environment (no database URL, token or API
 * key: not even the secrets the project declares for its runs, which live on runners), the
 * project's network for `setup` and `checks`, and its limits. Where bubblewrap does not
 * work, re-verification is refused rather than run unconfined. Nothing from a request is
 * ever part of a command; run facts reach it as environment variables.
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
  projectId: string;
  /** The project's sandbox policy (its `sandbox` column). */
  sandbox: unknown;
  repoPath: string;
  baseBranch: string;
  branch: string;
  setupScript: string | null;
  checks: ReverifyCheck[];
  timeoutMs?: number;
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

let serverHost: Promise<SandboxHost> | null = null;

/** The server's sandbox, set up at the first re-verification (one per process). */
function serverSandbox(): Promise<SandboxHost> {
  serverHost ??= (async () => {
    // Not in the data directory: nothing of it is bound into a sandbox, and this keeps it so.
    const stateDir = mkdtempSync(path.join(tmpdir(), "agentboard-reverify-"));
    const host = await SandboxHost.create({ stateDir });
    process.once("exit", () => {
      // Synchronous work only, at exit: close() removes its socket directory before it awaits anything.
      void host.close();
      rmSync(stateDir, { recursive: true, force: true });
    });
    return host;
  })();
  return serverHost;
}

/** The project's run policy, as re-verification applies it: always confined, no declared secrets. */
function reverifyPolicy(raw: unknown): SandboxPolicy {
  let policy: SandboxPolicy;
  try {
    policy = parsePolicy(raw);
  } catch {
    throw conflict("INVALID_STATE", "the project's sandbox policy is malformed; re-verification cannot run");
  }
  return { ...policy, unconfined: false, secrets: [] };
}

/** `/bin/sh -c <command>` in the re-verification's sandbox; a timeout stops everything it started. */
export async function runCheckCommand(
  spec: { key: string; title: string; required: boolean; command: string },
  box: RunSandbox,
  phase: Phase,
  timeoutMs: number,
): Promise<CheckRun> {
  const started = Date.now();
  const out = new Tail(OUTPUT_TAIL_CHARS);
  const timer = new AbortController();
  let timedOut = false;
  const clock = setTimeout(() => {
    timedOut = true;
    timer.abort();
  }, timeoutMs);
  let exitCode: number | null;
  try {
    const proc = box.start(phase, "/bin/sh", ["-c", spec.command], {
      env: { CI: "1", LANG: "C.UTF-8" },
      signal: timer.signal,
      graceMs: KILL_GRACE_MS,
      onStdout: (t) => out.push(t),
      onStderr: (t) => out.push(t),
    });
    exitCode = (await proc.done).code;
  } catch (err) {
    out.push(`could not start /bin/sh: ${err instanceof Error ? err.message : String(err)}\n`);
    exitCode = 127;
  } finally {
    clearTimeout(clock);
  }
  if (timedOut) out.push(`\n[agentboard] timed out after ${timeoutMs} ms\n`);
  return { ...spec, exitCode, passed: exitCode === 0 && !timedOut, timedOut, durationMs: Date.now() - started, output: out.toString() };
}

export async function reverifyIntegratedState(input: ReverifyInput): Promise<ReverifyReport> {
  const timeoutMs = input.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const policy = reverifyPolicy(input.sandbox);
  const host = await serverSandbox();
  if (!host.support.available) {
    throw conflict("SANDBOX_REQUIRED", `re-verification runs the project's commands in a sandbox, which this server cannot make: ${host.support.reason ?? "no sandbox"}`);
  }
  const vt = await mergeBaseIntoBranchForVerification({ repoPath: input.repoPath, baseBranch: input.baseBranch, branch: input.branch });
  let box: RunSandbox | null = null;
  try {
    const base = { baseCommit: vt.baseCommit, branchCommit: vt.branchCommit, head: vt.head };
    if (vt.conflict) return { ...base, passed: false, conflict: vt.conflict, setup: null, checks: [] };
    const limitHits: string[] = [];
    box = host.openRun({
      runId: `reverify-${input.runId}`,
      projectId: input.projectId,
      checkout: vt.dir,
      readOnly: vt.objectDirs,
      policy,
      // None of the server's environment: only the sandbox's own allowlisted settings.
      source: {},
      facts: { AGENTBOARD_RUN_ID: input.runId, AGENTBOARD_REVERIFY: "1", AGENTBOARD_WORKTREE: vt.dir },
      model: null,
      onLimit: (hit) => limitHits.push(hit.message),
    });
    const run = async (spec: ReverifyCheck, phase: Phase) => {
      const before = limitHits.length;
      const r = await runCheckCommand(spec, box!, phase, timeoutMs);
      const hits = limitHits.slice(before);
      return hits.length > 0 ? { ...r, passed: false, output: `${r.output}\n[agentboard] ${hits.join("; ")}\n` } : r;
    };
    // A fresh clone has no installed dependencies; the project's setup script is what
    // the runner ran before the agent, so it runs here too.
    let setup: CheckRun | null = null;
    if (input.setupScript) {
      setup = await run({ key: "setup", title: "Project setup script", required: true, command: input.setupScript }, "setup");
      if (!setup.passed) return { ...base, passed: false, setup, checks: [] };
    }
    const checks: CheckRun[] = [];
    for (const c of input.checks) checks.push(await run(c, "checks"));
    // Optional items are reported but do not block, as in the merge gate.
    return { ...base, passed: checks.every((c) => c.passed || !c.required), setup, checks };
  } finally {
    await box?.close(KILL_GRACE_MS);
    await vt.cleanup();
  }
}
