/**
 * The environment agents, hooks and test commands run with: the runner's own, minus
 * anything that grants access elsewhere. An agent executes model-chosen shell commands,
 * so whatever it can read it can leak (into a commit, a log, a web request).
 */

const EXACT = new Set([
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "OPENAI_API_KEY",
  "AGENTBOARD_TOKEN",
  "AGENTBOARD_TOKEN_FILE",
  "AGENTBOARD_ADMIN_TOKEN",
  "AGENTBOARD_GIT_TOKEN",
  "DATABASE_URL",
  "DIRECT_URL",
  "SHADOW_DATABASE_URL",
  "AGENTBOARD_TEST_PG_URL",
  "PGPASSWORD",
  "PGPASSFILE",
  "AWS_ACCESS_KEY_ID",
  "AWS_SESSION_TOKEN",
  "GOOGLE_APPLICATION_CREDENTIALS",
  "SSH_AUTH_SOCK",
  "NPM_CONFIG__AUTH",
  "NODE_AUTH_TOKEN",
]);

// Names that announce a credential, whatever the product: FOO_TOKEN, GITHUB_PAT, DB_PASSWORD…
const SUFFIXES = ["TOKEN", "_SECRET", "_PASSWORD", "_PASSWD", "_KEY", "_APIKEY", "_CREDENTIALS", "_PAT", "_AUTH"];
const PREFIXES = ["AGENTBOARD_"];

export function isSecretName(name: string): boolean {
  const upper = name.toUpperCase();
  if (EXACT.has(upper)) return true;
  if (SUFFIXES.some((s) => upper.endsWith(s))) return true;
  if (upper.includes("SECRET") || upper.includes("PASSWORD")) return true;
  // The runner's own settings are no business of the agent (and include its token).
  return PREFIXES.some((p) => upper.startsWith(p));
}

/** A copy of `source` without secrets, plus `extra` (run facts the hooks may use). */
export function scrubbedEnv(source: NodeJS.ProcessEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Starts empty: NODE_ENV is only what the source had (Next's typings make it required).
  const env = {} as NodeJS.ProcessEnv;
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || isSecretName(key)) continue;
    // A database URL smuggles its password whatever the variable is called.
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(value)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}
