/**
 * The runner's configuration: command-line flags, each with an environment equivalent
 * (flags win), validated once with zod. Nothing else in the runner reads process.env.
 *
 * Secrets (the Anthropic key, a git token) are read from the environment only: argv is
 * visible to every local user through `ps`.
 */
import { readFileSync } from "node:fs";
import { hostname, homedir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseDuration } from "./duration.js";

interface FlagSpec {
  env: string;
  help: string;
  /** Boolean flags take no value. */
  boolean?: true;
}

/** Every flag, its environment variable and its help line; the single source for both. */
export const FLAGS = {
  server: { env: "AGENTBOARD_SERVER", help: "Base URL of the agentboard server, e.g. http://10.0.0.5:3000" },
  token: { env: "AGENTBOARD_TOKEN", help: "API token (role runner, or the admin token); prefer the env variable or --token-file" },
  "token-file": { env: "AGENTBOARD_TOKEN_FILE", help: "File holding the API token" },
  workspace: { env: "AGENTBOARD_WORKSPACE", help: "Workspace ids or slugs to serve, comma-separated (default: every workspace the token sees)" },
  board: { env: "AGENTBOARD_BOARD", help: "Only claim runs of this board id" },
  labels: { env: "AGENTBOARD_RUNNER_LABELS", help: "Labels this runner carries, comma-separated (runs may require labels)" },
  concurrency: { env: "AGENTBOARD_RUNNER_CONCURRENCY", help: "Most agents running at once (default 2)" },
  "worktrees-dir": { env: "AGENTBOARD_WORKTREES_DIR", help: "Where run worktrees are created (default ~/.agentboard/worktrees)" },
  "state-dir": { env: "AGENTBOARD_STATE_DIR", help: "Where the runner keeps reports not yet delivered (default: state beside the worktrees directory)" },
  timeout: { env: "AGENTBOARD_AGENT_TIMEOUT", help: "Agent timeout when the run sets none, e.g. 30m (default 30m)" },
  name: { env: "AGENTBOARD_RUNNER_NAME", help: "Name shown on the board (default: the host name)" },
  model: { env: "AGENTBOARD_MODEL", help: "Model when the run names none" },
  "lease-grace": { env: "AGENTBOARD_LEASE_GRACE", help: "Give up a run this long before its lease would expire without a heartbeat (default 2s)" },
  heartbeat: { env: "AGENTBOARD_HEARTBEAT", help: "Heartbeat interval, jittered and at most a third of the lease (default 10s)" },
  "claim-wait": { env: "AGENTBOARD_CLAIM_WAIT", help: "Long-poll wait of a claim, at most 25s (default 25s)" },
  "event-flush": { env: "AGENTBOARD_EVENT_FLUSH", help: "Longest an agent event waits before it is sent, at most 200ms (default 150ms)" },
  "kill-grace": { env: "AGENTBOARD_KILL_GRACE", help: "Time between SIGTERM and SIGKILL of an agent's process group (default 3s)" },
  "shutdown-grace": { env: "AGENTBOARD_SHUTDOWN_GRACE", help: "On SIGINT/SIGTERM, time running agents get to finish before they are stopped (default 30s)" },
  "hook-timeout": { env: "AGENTBOARD_HOOK_TIMEOUT", help: "Timeout of setup scripts, hooks, test commands and checks (default 10m)" },
  "worktree-max-age": { env: "AGENTBOARD_WORKTREE_MAX_AGE", help: "Finished runs' worktrees are swept after this age (default 7d)" },
  "sweep-every": { env: "AGENTBOARD_SWEEP_EVERY", help: "How often stale worktrees are swept (default 1h)" },
  "claude-code-bin": { env: "CLAUDE_CODE_BIN", help: "Path of the claude executable for the claude-code engine" },
  "anthropic-base-url": { env: "ANTHROPIC_BASE_URL", help: "Messages API endpoint (the key comes from ANTHROPIC_API_KEY)" },
  "log-format": { env: "AGENTBOARD_LOG_FORMAT", help: "text or json (default text)" },
  help: { env: "", help: "Show this help", boolean: true },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

/** A duration as milliseconds, or as text with a unit (flags and environment). */
const zDuration = (label: string, min: number, max: number) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = typeof value === "number" ? value : parseDuration(value);
    if (ms === null || ms < min || ms > max) {
      ctx.addIssue({ code: "custom", message: `${label}: expected a duration between ${min}ms and ${max}ms, like 500ms, 30s, 10m` });
      return z.NEVER;
    }
    return ms;
  });

const zList = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (typeof v === "string" ? v.split(",") : v).map((x) => x.trim()).filter((x) => x !== ""));
const zLabel = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, "labels use letters, digits and _.:-");
const DAY = 86_400_000;

const schema = z.object({
  server: z.url({ protocol: /^https?$/, error: "--server (or AGENTBOARD_SERVER) must be the server's http(s) URL" }).transform((u) => u.replace(/\/+$/, "")),
  token: z.string({ error: "--token (or AGENTBOARD_TOKEN / --token-file) is required" }).min(8, "the token is too short to be an agentboard token"),
  workspaces: zList.pipe(z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "workspace ids and slugs use letters, digits, _ and -"))).default([]),
  boardId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "invalid board id")
    .optional(),
  labels: zList.pipe(z.array(zLabel).max(32)).default([]),
  concurrency: z.coerce.number().int().min(1).max(64).default(2),
  worktreesDir: z
    .string()
    .min(1)
    .transform((p) => path.resolve(p.replace(/^~(?=$|\/)/, homedir()))),
  stateDir: z
    .string()
    .min(1)
    .transform((p) => path.resolve(p.replace(/^~(?=$|\/)/, homedir())))
    .optional(),
  agentTimeoutMs: zDuration("--timeout", 1_000, 7 * DAY).default(30 * 60_000),
  name: z.string().regex(/^[A-Za-z0-9_.:@-]{1,100}$/, "--name uses letters, digits and _.:@-"),
  model: z
    .string()
    .regex(/^[A-Za-z0-9._:@-]{1,100}$/, "invalid model name")
    .optional(),
  leaseGraceMs: zDuration("--lease-grace", 0, 60_000).default(2_000),
  heartbeatMs: zDuration("--heartbeat", 50, 600_000).default(10_000),
  claimWaitMs: zDuration("--claim-wait", 0, 25_000).default(25_000),
  eventFlushMs: zDuration("--event-flush", 1, 200).default(150),
  killGraceMs: zDuration("--kill-grace", 0, 60_000).default(3_000),
  shutdownGraceMs: zDuration("--shutdown-grace", 0, DAY).default(30_000),
  hookTimeoutMs: zDuration("--hook-timeout", 1_000, DAY).default(10 * 60_000),
  worktreeMaxAgeMs: zDuration("--worktree-max-age", 0, 365 * DAY).default(7 * DAY),
  sweepEveryMs: zDuration("--sweep-every", 1_000, 30 * DAY).default(3_600_000),
  claudeCodeBin: z.string().min(1).optional(),
  anthropicApiKey: z.string().min(1).optional(),
  anthropicBaseUrl: z.url().optional(),
  gitToken: z.string().min(1).optional(),
  /**
   * A follow-up resumes the anthropic conversation up to this many characters of JSON (about
   * 4 per token); beyond, it starts from the thread's summary. No flag: the default suits a
   * 200k context.
   */
  resumeMaxChars: z.number().int().min(1).max(100_000_000).optional(),
  logFormat: z.enum(["text", "json"]).default("text"),
});

export type RunnerConfig = Omit<z.output<typeof schema>, "stateDir"> & {
  /** The outbox lives here (output/outbox.ts); by default `state` beside the worktrees directory. */
  stateDir: string;
};
/** Overrides accepted by {@link loadRunnerConfig} after flags and environment (tests, the local runner). */
export type RunnerConfigInput = Partial<z.input<typeof schema>>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export interface LoadConfigOptions {
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Used where neither a flag nor the environment gives a value. */
  defaults?: RunnerConfigInput;
  /** Win over flags and environment. */
  overrides?: RunnerConfigInput;
}

export function helpText(): string {
  const lines = Object.entries(FLAGS).map(([flag, spec]) => {
    const env = spec.env ? ` [${spec.env}]` : "";
    return `  --${flag.padEnd(20)} ${spec.help}${env}`;
  });
  return [
    "agentboard-runner: claims agentboard runs and executes them in git worktrees.",
    "",
    "Usage: agentboard-runner --server URL [options]",
    "",
    ...lines,
    "",
    "Environment only: ANTHROPIC_API_KEY (anthropic engine), AGENTBOARD_GIT_TOKEN (clones of private remotes).",
  ].join("\n");
}

export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

/** Flags, then environment, then defaults; throws ConfigError with every problem listed. */
export function loadRunnerConfig(opts: LoadConfigOptions = {}): RunnerConfig {
  const env = opts.env ?? process.env;
  let values: Partial<Record<FlagName, string | boolean>>;
  try {
    const options = Object.fromEntries(
      Object.entries(FLAGS).map(([flag, spec]) => [flag, { type: "boolean" in spec ? ("boolean" as const) : ("string" as const) }]),
    );
    values = parseArgs({ args: [...(opts.argv ?? [])], options, allowPositionals: false, strict: true }).values as Partial<Record<FlagName, string | boolean>>;
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  const pick = (flag: FlagName): string | undefined => {
    const v = values[flag];
    if (typeof v === "string") return v;
    const spec: FlagSpec = FLAGS[flag];
    const fromEnv = spec.env ? env[spec.env] : undefined;
    return fromEnv === "" ? undefined : fromEnv;
  };

  let token = pick("token");
  const tokenFile = pick("token-file");
  if (!token && tokenFile) {
    try {
      token = readFileSync(tokenFile, "utf8").trim();
    } catch (err) {
      throw new ConfigError(`cannot read --token-file ${tokenFile}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const raw: Record<string, unknown> = {
    worktreesDir: path.join(homedir(), ".agentboard", "worktrees"),
    name:
      hostname()
        .replace(/[^A-Za-z0-9_.:@-]/g, "-")
        .slice(0, 100) || "runner",
    ...opts.defaults,
  };
  const fromSources: Record<string, string | undefined> = {
    server: pick("server"),
    token,
    workspaces: pick("workspace"),
    boardId: pick("board"),
    labels: pick("labels"),
    concurrency: pick("concurrency"),
    worktreesDir: pick("worktrees-dir"),
    stateDir: pick("state-dir"),
    agentTimeoutMs: pick("timeout"),
    name: pick("name"),
    model: pick("model"),
    leaseGraceMs: pick("lease-grace"),
    heartbeatMs: pick("heartbeat"),
    claimWaitMs: pick("claim-wait"),
    eventFlushMs: pick("event-flush"),
    killGraceMs: pick("kill-grace"),
    shutdownGraceMs: pick("shutdown-grace"),
    hookTimeoutMs: pick("hook-timeout"),
    worktreeMaxAgeMs: pick("worktree-max-age"),
    sweepEveryMs: pick("sweep-every"),
    claudeCodeBin: pick("claude-code-bin"),
    anthropicBaseUrl: pick("anthropic-base-url"),
    logFormat: pick("log-format"),
    anthropicApiKey: env.ANTHROPIC_API_KEY || undefined,
    gitToken: env.AGENTBOARD_GIT_TOKEN || undefined,
  };
  for (const [key, value] of Object.entries(fromSources)) if (value !== undefined) raw[key] = value;
  // `npm run runner` runs in apps/runner; a relative path means where the user typed it.
  const dir = fromSources.worktreesDir;
  if (dir !== undefined && !path.isAbsolute(dir) && !dir.startsWith("~")) raw.worktreesDir = path.resolve(env.INIT_CWD ?? process.cwd(), dir);
  Object.assign(raw, opts.overrides);

  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "config"}: ${i.message}`);
    throw new ConfigError(`invalid runner configuration:\n${lines.join("\n")}`);
  }
  const config = parsed.data;
  return { ...config, stateDir: config.stateDir ?? path.join(path.dirname(config.worktreesDir), "state") };
}
