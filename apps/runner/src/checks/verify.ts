/**
 * A merge's re-verification (docs/dod-and-merge.md): the base merged into the run's branch
 * in a throwaway private clone, the project's setup script and the run's automatic checks
 * run there in the sandbox of the project's runs, and the results reported. The server
 * merges only if everything required passed on exactly the commits it asked about.
 * Lease and heartbeat work as for a run: a lost lease (expired, cancelled) stops the
 * commands and reports nothing.
 */
import { promises as fs } from "node:fs";
import { errorReason, type AgentboardClient, type RouterInputs, type RouterOutputs } from "@agentboard/client";
import { mergeBaseIntoBranchForVerification } from "@agentboard/git";
import { parsePolicy, type LimitHit, type Phase, type RunSandbox, type SandboxHost, type SandboxPolicy } from "@agentboard/sandbox";
import type { RunnerConfig } from "../config.js";
import type { Logger } from "../output/log.js";
import { errorMessage } from "../output/log.js";
import { runShell, tail, type ShellResult } from "../process/shell.js";

export type VerificationClaim = NonNullable<RouterOutputs["run"]["claimVerification"]>;
type CheckRun = RouterInputs["run"]["completeVerification"]["checks"][number];

export interface VerifyDeps {
  client: AgentboardClient;
  config: RunnerConfig;
  log: Logger;
  sandbox: SandboxHost;
  baseEnv: NodeJS.ProcessEnv;
  /** The runner stopping: the commands stop and nothing is reported (the lease runs out; another runner takes it). */
  signal: AbortSignal;
}

const OUTPUT_CHARS = 16 * 1024;

async function isDirectory(p: string): Promise<boolean> {
  return fs
    .stat(p)
    .then((s) => s.isDirectory())
    .catch(() => false);
}

function checkRun(spec: { key: string; title: string; required: boolean }, r: ShellResult): CheckRun {
  return {
    ...spec,
    command: r.command,
    exitCode: r.exitCode,
    passed: r.ok,
    timedOut: r.timedOut,
    durationMs: Math.min(r.durationMs, 2_147_483_647),
    output: tail(r.output, OUTPUT_CHARS),
  };
}

/** Verifies one claimed request and reports it; resolves once the server has the report (or the lease is gone). */
export async function executeVerification(claim: VerificationClaim, deps: VerifyDeps): Promise<"reported" | "lease-lost"> {
  const { verification: v, run, project } = claim;
  const log = deps.log.child({ run: run.id, verification: v.id });
  const lease = { runId: run.id, verificationId: v.id, leaseToken: v.leaseToken };
  const stop = new AbortController();
  const onShutdown = () => stop.abort();
  deps.signal.addEventListener("abort", onShutdown, { once: true });
  const beat = setInterval(() => {
    deps.client.run.heartbeatVerification.mutate(lease).catch((err: unknown) => {
      if (errorReason(err) === "LEASE_LOST") {
        log.warn("re-verification lease lost (cancelled or expired); stopping");
        stop.abort();
      }
    });
  }, deps.config.heartbeatMs);
  const report = async (body: Omit<RouterInputs["run"]["completeVerification"], "runId" | "verificationId" | "leaseToken">) => {
    if (stop.signal.aborted) return "lease-lost" as const;
    try {
      const done = await deps.client.run.completeVerification.mutate({ ...lease, ...body });
      log.info("re-verification reported", { status: done.status, reason: done.reason ?? "" });
      return "reported" as const;
    } catch (err) {
      if (errorReason(err) === "LEASE_LOST") return "lease-lost" as const;
      throw err;
    }
  };
  const commits = { baseCommit: v.baseCommit, branchCommit: v.branchCommit };
  const unable = (message: string) => report({ ...commits, head: null, setup: null, checks: [], error: { message } });

  try {
    let policy: SandboxPolicy;
    try {
      policy = parsePolicy(project.sandbox);
    } catch (err) {
      return await unable(`the project's sandbox policy is malformed: ${errorMessage(err)}`);
    }
    if (!policy.unconfined && !deps.sandbox.support.available) {
      return await unable(`this runner cannot confine the checks (${deps.sandbox.support.reason ?? "no sandbox"}) and the project requires its sandbox`);
    }
    if (!(await isDirectory(project.repoPath))) {
      return await unable(`the project's repository ${project.repoPath} is not on this runner`);
    }
    const vt = await mergeBaseIntoBranchForVerification({
      repoPath: await fs.realpath(project.repoPath),
      baseBranch: run.baseBranch,
      branch: run.branch,
    }).catch((err: unknown) => new Error(errorMessage(err)));
    if (vt instanceof Error) return await unable(`could not make the integrated state: ${vt.message}`);
    let box: RunSandbox | null = null;
    try {
      const verified = { baseCommit: vt.baseCommit, branchCommit: vt.branchCommit, head: vt.head };
      if (vt.conflict) return await report({ ...verified, conflict: vt.conflict, setup: null, checks: [] });
      const limits: string[] = [];
      box = deps.sandbox.openRun({
        runId: `reverify-${v.id}`,
        projectId: run.projectId,
        checkout: vt.dir,
        readOnly: vt.objectDirs,
        policy,
        source: deps.baseEnv,
        facts: {
          AGENTBOARD_RUN_ID: run.id,
          AGENTBOARD_PROJECT_ID: run.projectId,
          AGENTBOARD_BRANCH: run.branch,
          AGENTBOARD_BASE_BRANCH: run.baseBranch,
          AGENTBOARD_BASE_COMMIT: vt.baseCommit,
          AGENTBOARD_WORKTREE: vt.dir,
          AGENTBOARD_REVERIFY: "1",
        },
        model: null,
        onLimit: (hit: LimitHit) => limits.push(hit.message),
      });
      const sandbox = box;
      const shell = async (command: string, phase: Phase) => {
        const before = limits.length;
        const r = await runShell(command, {
          starter: sandbox.starter(phase),
          env: { CI: "1" },
          timeoutMs: deps.config.hookTimeoutMs,
          signal: stop.signal,
          killGraceMs: deps.config.killGraceMs,
        });
        const hits = limits.slice(before);
        return hits.length > 0 ? { ...r, ok: false, output: `${r.output}\n[agentboard] ${hits.join("; ")}\n` } : r;
      };
      log.info("re-verifying", { base: vt.baseCommit.slice(0, 12), branch: vt.branchCommit.slice(0, 12), checks: claim.checks.length });
      // A fresh clone has no installed dependencies: the setup script runs first, as before the agent.
      let setup: CheckRun | null = null;
      if (project.setupScript) {
        setup = checkRun({ key: "setup", title: "Project setup script", required: true }, await shell(project.setupScript, "setup"));
        if (!setup.passed) return await report({ ...verified, setup, checks: [] });
      }
      const checks: CheckRun[] = [];
      for (const c of claim.checks) {
        if (stop.signal.aborted) break;
        checks.push(checkRun(c, await shell(c.check, "checks")));
      }
      return await report({ ...verified, setup, checks });
    } finally {
      await box?.close(deps.config.killGraceMs);
      await vt.cleanup();
    }
  } finally {
    clearInterval(beat);
    deps.signal.removeEventListener("abort", onShutdown);
  }
}
