/**
 * A run's first step, up to the agent: the project's sandbox policy, the checkout (a
 * follow-up's from its parent's head), the run's sandbox, a resolve-conflicts run's merge of
 * the base, the setup script and the pre hooks (any failing one vetoes the run), then
 * `run.start`.
 */
import { branchCommit } from "@agentboard/git";
import { type EgressDecision, type LimitHit, type Phase, parsePolicy, type SandboxPolicy } from "@agentboard/sandbox";
import { parseHooks } from "../checks/hooks.js";
import { checkoutStart, startMerge } from "../output/collect.js";
import { errorMessage } from "../output/log.js";
import { describeExit, shellPayload, tail } from "../process/shell.js";
import { type PreparedWorktree, prepareWorktree } from "../workspace/prepare-worktree.js";
import { worktreeBytes } from "../workspace/worktree-size.js";
import type { RunContext } from "./context.js";
import { RunFailure } from "./run-failure.js";

export async function prepareRun(ctx: RunContext): Promise<PreparedWorktree> {
  const { run, project } = ctx.claim;
  const { config } = ctx.deps;
  ctx.hooks = parseHooks(project.hooks);

  ctx.runLog.note(`runner ${config.name} claimed the run (attempt ${run.attempt}, engine ${run.engine})`);
  const policy = sandboxPolicy(ctx);
  if (run.parentRunId) {
    ctx.resume = await ctx.guarded(() => ctx.deps.client.run.resumeContext.query({ runId: run.id, leaseToken: ctx.claim.leaseToken }));
    ctx.runLog.note(`continuing the thread of run ${run.parentRunId} (${run.kind}) from ${ctx.resume.startCommit?.slice(0, 12) ?? "its branch"}`);
  }
  const t0 = Date.now();
  const wt = await prepareWorktree(
    config.worktreesDir,
    ctx.deps.sandbox.stateDir,
    {
      runId: run.id,
      branch: run.branch,
      baseBranch: run.baseBranch,
      repoPath: project.repoPath,
      remoteUrl: project.remoteUrl,
      startCommit: ctx.resume?.startCommit ?? run.startCommit,
      parentRunId: run.parentRunId,
    },
    config.gitToken,
  );
  ctx.worktree = wt;
  ctx.emit("runner.worktree", {
    path: wt.path,
    branch: run.branch,
    baseBranch: run.baseBranch,
    baseCommit: wt.baseCommit,
    startCommit: wt.startCommit,
    reused: wt.reused,
    mode: wt.mode,
    durationMs: Date.now() - t0,
  });
  const reused = wt.reused ? `, the parent's checkout at ${wt.startCommit.slice(0, 12)}` : "";
  ctx.runLog.note(`worktree ${wt.path} on ${run.branch} from ${run.baseBranch} (${wt.baseCommit.slice(0, 12)}, ${wt.mode}${reused})`);
  // Measured while setup and hooks run; it only feeds the worktree record.
  const size = worktreeBytes(wt.sourceRepo, wt.baseCommit);
  openSandbox(ctx, wt, policy);
  if (wt.reused) {
    try {
      await checkoutStart(ctx.sandboxOf().starter("collect"), run.branch, wt.startCommit, ctx.agentStop.signal);
    } catch (err) {
      throw new RunFailure("worktree_failed", `could not move the parent's checkout to ${wt.startCommit}: ${errorMessage(err)}`);
    }
  }
  if (run.kind === "resolve_conflicts") await startBaseMerge(ctx, wt);
  ctx.throwIfStopped();

  if (project.setupScript?.trim()) {
    const setup = await ctx.shell(project.setupScript, "setup", ctx.agentStop.signal);
    ctx.emit("runner.setup", shellPayload(setup));
    if (!setup.ok) {
      ctx.throwIfStopped();
      throw new RunFailure("setup_failed", `the setup script ${describeExit(setup)}:\n${tail(setup.output, 4_000)}`);
    }
  }

  const pre = await ctx.hooksOf("pre", ctx.agentStop.signal, true);
  const veto = pre.find((r) => !r.ok);
  ctx.throwIfStopped();
  if (veto) {
    throw new RunFailure("hook_veto", `pre hook \`${tail(veto.command, 200)}\` ${describeExit(veto)} and vetoed the run:\n${tail(veto.output, 4_000)}`);
  }

  const sizeBytes = await size;
  await ctx.guarded(() => ctx.deps.client.run.start.mutate({ runId: run.id, leaseToken: ctx.claim.leaseToken, worktreePath: wt.path, sizeBytes }));
  ctx.startedAt = Date.now();
  ctx.throwIfStopped();
  return wt;
}

/** A resolve-conflicts run: the base's tip merged into the checkout, conflicts left for the agent. */
async function startBaseMerge(ctx: RunContext, wt: PreparedWorktree): Promise<void> {
  const { run } = ctx.claim;
  const base = await branchCommit(wt.sourceRepo, run.baseBranch);
  if (base === null) throw new RunFailure("worktree_failed", `base branch ${run.baseBranch} does not exist`);
  try {
    ctx.conflicts = await startMerge(ctx.sandboxOf().starter("collect"), base, ctx.agentStop.signal);
  } catch (err) {
    throw new RunFailure("worktree_failed", `could not start merging ${run.baseBranch}: ${errorMessage(err)}`);
  }
  // The run's diff is against the base it merged.
  wt.baseCommit = base;
  ctx.emit("runner.merge_started", { baseBranch: run.baseBranch, baseCommit: base, conflicts: ctx.conflicts });
  ctx.runLog.note(`merging ${run.baseBranch} (${base.slice(0, 12)}): ${ctx.conflicts.length} conflicting file(s) left for the agent`);
}

// ── the sandbox ──────────────────────────────────────────────────────────────────

/** The project's policy; a confined one needs this runner's sandbox to work. */
function sandboxPolicy(ctx: RunContext): SandboxPolicy {
  let policy: SandboxPolicy;
  try {
    policy = parsePolicy(ctx.claim.project.sandbox);
  } catch (err) {
    throw new RunFailure("invalid_sandbox_policy", `the project's sandbox policy is malformed: ${errorMessage(err)}`);
  }
  const support = ctx.deps.sandbox.support;
  if (!policy.unconfined && !support.available) {
    throw new RunFailure(
      "sandbox_unavailable",
      `this runner cannot confine the run's processes (${support.reason ?? "no sandbox"}) and the project requires its sandbox`,
    );
  }
  return policy;
}

function openSandbox(ctx: RunContext, wt: PreparedWorktree, policy: SandboxPolicy): void {
  const { run } = ctx.claim;
  const { config } = ctx.deps;
  ctx.box = ctx.deps.sandbox.openRun({
    runId: run.id,
    projectId: run.projectId,
    checkout: wt.path,
    readOnly: wt.objectDirs,
    policy,
    source: ctx.deps.baseEnv,
    facts: {
      AGENTBOARD_RUN_ID: run.id,
      AGENTBOARD_PROJECT_ID: run.projectId,
      AGENTBOARD_BRANCH: run.branch,
      AGENTBOARD_BASE_BRANCH: run.baseBranch,
      AGENTBOARD_WORKTREE: wt.path,
      AGENTBOARD_BASE_COMMIT: wt.baseCommit,
    },
    model: config.anthropicApiKey ? { apiKey: config.anthropicApiKey, baseURL: config.anthropicBaseUrl ?? "https://api.anthropic.com" } : null,
    onLimit: (hit, phase) => onLimit(ctx, hit, phase),
    onNetwork: (d, phase) => onNetwork(ctx, d, phase),
  });
  const description = ctx.box.describe();
  ctx.emit("runner.sandbox", description);
  if (description.confined) {
    const limits = Object.entries(description.limits)
      .map(([k, v]) => `${k} ${v.value ?? "-"} (${v.enforcedBy})`)
      .join(", ");
    const network = Object.entries(description.network)
      .map(([p, m]) => `${p} ${m}`)
      .join(", ");
    ctx.runLog.note(`sandbox: confined as ${description.user}; network ${network}; limits ${limits}`);
  } else {
    ctx.runLog.note("UNCONFINED: the project runs without a sandbox (an admin's choice); its processes have the runner's rights");
  }
}

function onLimit(ctx: RunContext, hit: LimitHit, phase: Phase | "collect"): void {
  ctx.emit("sandbox.limit", { ...hit, phase });
  ctx.runLog.note(`sandbox limit (${phase}): ${hit.message}`);
  if (ctx.limitHit) return;
  ctx.limitHit = hit;
  ctx.stop("sandbox_limit");
}

function onNetwork(ctx: RunContext, d: EgressDecision, phase: Phase | "collect"): void {
  // Refusals are what a reviewer needs to see; allowed connections would flood the log.
  if (d.allowed) return;
  ctx.emit("sandbox.network", { host: d.host, port: d.port, allowed: false, reason: d.detail, phase });
  ctx.runLog.note(`network (${phase}): ${d.host}:${d.port} refused: ${d.detail}`);
}
