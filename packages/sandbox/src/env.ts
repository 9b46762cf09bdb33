/**
 * The environment of every process a run starts: an allowlist, never a copy of the
 * runner's own. A deny-list of secret-looking names always misses some (SENTRY_DSN,
 * SLACK_WEBHOOK_URL, STRIPE_SK…); here nothing passes unless named: the locale and
 * terminal, a fixed PATH, the sandbox user's HOME, the run's facts (AGENTBOARD_RUN_ID…),
 * the proxy settings of the phase, and the secrets the project declares by name.
 */
import { EGRESS_PORT } from "./bwrap.js";

const PASSED = new Set(["LANG", "LANGUAGE", "TERM", "TZ", "NO_COLOR", "FORCE_COLOR", "COLORTERM"]);

// Declared or not, these never reach a run: the runner's token and settings, its git
// token, the model API key.
const NEVER = /^(AGENTBOARD_|ANTHROPIC_|CLAUDE_CODE_)/i;

export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface SandboxEnvInput {
  /** The runner's environment: only the locale, the terminal and declared secrets are read from it. */
  source: Readonly<Record<string, string | undefined>>;
  home: string;
  user: string;
  /** Directories put before the system PATH (node's bin when it lives outside /usr). */
  pathDirs?: readonly string[];
  /** Names of variables the project passes from the runner's environment. */
  secrets?: readonly string[];
  /** Run facts: AGENTBOARD_RUN_ID, AGENTBOARD_WORKTREE… */
  facts?: Readonly<Record<string, string>>;
  /** The phase goes through the egress proxy (127.0.0.1:EGRESS_PORT inside the sandbox). */
  egress?: boolean;
  /** A per-project cache directory is mounted at this path. */
  cacheDir?: string | null;
}

export function sandboxEnv(input: SandboxEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.source)) {
    if (v !== undefined && (PASSED.has(k) || k.startsWith("LC_"))) env[k] = v;
  }
  for (const name of input.secrets ?? []) {
    const v = input.source[name];
    if (v !== undefined && !NEVER.test(name)) env[name] = v;
  }
  Object.assign(env, {
    PATH: [...(input.pathDirs ?? []), SYSTEM_PATH].join(":"),
    HOME: input.home,
    USER: input.user,
    LOGNAME: input.user,
    SHELL: "/bin/sh",
    TMPDIR: "/tmp",
    // Nothing a run starts may wait for a password on a terminal nobody watches.
    GIT_TERMINAL_PROMPT: "0",
  });
  if (input.cacheDir) {
    Object.assign(env, { XDG_CACHE_HOME: input.cacheDir, npm_config_cache: `${input.cacheDir}/npm`, PIP_CACHE_DIR: `${input.cacheDir}/pip` });
  }
  if (input.egress) {
    const proxy = `http://127.0.0.1:${EGRESS_PORT}`;
    for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"]) env[k] = proxy;
    env.NO_PROXY = env.no_proxy = "localhost,127.0.0.1,::1";
  }
  for (const [k, v] of Object.entries(input.facts ?? {})) env[k] = v;
  return env;
}
