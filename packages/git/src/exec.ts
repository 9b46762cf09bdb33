import { spawn } from "node:child_process";
import { GitError, simpleGit, type SimpleGit } from "simple-git";

/**
 * Settings applied to every git process this package starts.
 * - Hooks off: linked worktrees share `.git/hooks` with the main repository, so a
 *   developer's pre-commit/post-checkout hooks (husky, lint-staged…) would otherwise run
 *   inside agent worktrees and temporary merge trees, slowly or with side effects.
 * - No signing: an unattended server must never wait on a pinentry prompt.
 */
const BASE_CONFIG: readonly string[] = ["core.hooksPath=/dev/null", "commit.gpgSign=false"];

// GIT_* variables that are safe and sometimes necessary to inherit (ssh keys, corporate CAs).
// Everything else GIT_* is dropped: GIT_DIR/GIT_WORK_TREE/GIT_INDEX_FILE (set when the
// server is started from inside a git hook) would redirect our commands to another
// repository, GIT_AUTHOR_* would override the identity we pass, GIT_TRACE* would log tokens.
const INHERITED_GIT_VARS = new Set(["GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_HTTP_USER_AGENT"]);
// simple-git refuses to run with these set; none matters for non-interactive use.
const DROPPED_VARS = new Set(["EDITOR", "VISUAL", "PAGER", "PREFIX", "SSH_ASKPASS"]);

function gitEnv(extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    const upper = key.toUpperCase();
    if (DROPPED_VARS.has(upper)) continue;
    if (upper.startsWith("GIT_") && !INHERITED_GIT_VARS.has(upper)) continue;
    env[key] = value;
  }
  // A missing credential must fail fast instead of blocking on a terminal prompt.
  env.GIT_TERMINAL_PROMPT = "0";
  // Messages we match on (and show to users) stay in English whatever the host locale.
  env.LC_ALL = "C";
  return { ...env, ...extra };
}

const URL_CREDENTIALS_RE = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;
const AUTH_HEADER_RE = /(authorization:\s*(?:basic|bearer|token)\s+)\S+/gi;

/**
 * Removes the given secrets, plus anything shaped like URL credentials or an
 * Authorization header, so error messages can be logged and shown in the UI.
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    // Very short strings would shred unrelated text and are not real secrets anyway.
    if (secret.length >= 4) out = out.split(secret).join("***");
  }
  return out.replace(URL_CREDENTIALS_RE, "$1***@").replace(AUTH_HEADER_RE, "$1***");
}

const MAX_MESSAGE_OUTPUT = 4000;

/** A git process that exited non-zero (or could not run). Output is already redacted. */
export class GitCommandError extends GitError {
  override readonly name = "GitCommandError";
  readonly args: readonly string[];
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  constructor(args: readonly string[], exitCode: number, stdout: string, stderr: string, secrets: readonly string[] = []) {
    const safeArgs = args.map((a) => redactSecrets(a.length > 120 ? `${a.slice(0, 117)}...` : a, secrets));
    const output = redactSecrets((stderr.trim() || stdout.trim()).slice(0, MAX_MESSAGE_OUTPUT), secrets);
    super(undefined, `git ${safeArgs.join(" ")} failed (exit ${exitCode})${output ? `: ${output}` : ""}`);
    this.args = safeArgs;
    this.exitCode = exitCode;
    this.stdout = redactSecrets(stdout, secrets);
    this.stderr = redactSecrets(stderr, secrets);
  }
}

export interface GitOptions {
  /** Extra `-c key=value` settings for this command only (never persisted). */
  config?: readonly string[];
  /** Extra environment, e.g. GIT_CONFIG_KEY_n pairs for values that must stay out of argv. */
  env?: Readonly<Record<string, string>>;
  /** Strings scrubbed from any error this command throws. */
  secrets?: readonly string[];
  /** Kill git when it has produced no output for this long. */
  timeoutMs?: number;
}

/**
 * A simple-git client for `cwd` with this package's settings: the environment above, hooks
 * off, no signing, and ANY non-zero exit an error (unlike simple-git's default: git often
 * exits 1 with an empty stderr — `merge-tree` with conflicts, `diff --quiet`,
 * `merge-base --is-ancestor`), thrown as a redacted GitCommandError. Use its typed calls
 * (`clone`, `fetch`, `push`, `revparse`, `deleteLocalBranch`…) where one fits, {@link git}
 * for the rest.
 *
 * simple-git's checks on arguments and environment stay on for everything that could come
 * from a request (`--upload-pack`, `protocol.allow`, credential helpers, diff and filter
 * programs, templates…). The only ones lifted are for settings this module makes itself,
 * and only when it makes them: `core.hooksPath` (always, in BASE_CONFIG), an ssh command
 * inherited from the operator's environment, and the GIT_CONFIG_COUNT pairs that carry a
 * credential (clone.ts).
 */
export function gitClient(cwd: string, opts: GitOptions = {}, argsForErrors: () => readonly string[] = () => []): SimpleGit {
  const secrets = opts.secrets ?? [];
  const env = gitEnv(opts.env);
  return simpleGit({
    baseDir: cwd,
    config: [...BASE_CONFIG, ...(opts.config ?? [])],
    maxConcurrentProcesses: 1,
    ...(opts.timeoutMs ? { timeout: { block: opts.timeoutMs } } : {}),
    unsafe: {
      allowUnsafeHooksPath: true,
      ...(env.GIT_SSH !== undefined || env.GIT_SSH_COMMAND !== undefined ? { allowUnsafeSshCommand: true } : {}),
      ...(opts.env?.GIT_CONFIG_COUNT !== undefined ? { allowUnsafeConfigEnvCount: true } : {}),
    },
    errors: (error, result) => {
      if (!error && result.exitCode === 0) return undefined;
      const stderr = Buffer.concat(result.stdErr).toString("utf8");
      const stdout = Buffer.concat(result.stdOut).toString("utf8");
      const detail = stderr || (error instanceof Error ? error.message : error ? error.toString("utf8") : "");
      return new GitCommandError(argsForErrors(), result.exitCode, stdout, detail, secrets);
    },
  }).env(env);
}

/** Runs a simple-git call, turning anything it throws into a GitCommandError naming `args`. */
export async function viaClient<T>(args: readonly string[], secrets: readonly string[], call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof GitCommandError) throw err;
    throw new GitCommandError(args, -1, "", err instanceof Error ? err.message : String(err), secrets);
  }
}

/** Runs git with an argument array (never a shell) and returns stdout; see {@link gitClient}. */
export async function git(cwd: string, args: readonly string[], opts: GitOptions = {}): Promise<string> {
  return viaClient(args, opts.secrets ?? [], () => gitClient(cwd, opts, () => args).raw([...args]));
}

export type GitTryResult = { ok: true; stdout: string } | { ok: false; error: GitCommandError };

/** Like {@link git} but returns failures, for commands whose exit code is an answer. */
export async function gitTry(cwd: string, args: readonly string[], opts: GitOptions = {}): Promise<GitTryResult> {
  try {
    return { ok: true, stdout: await git(cwd, args, opts) };
  } catch (err) {
    if (err instanceof GitCommandError) return { ok: false, error: err };
    throw err;
  }
}

/**
 * Streams stdout chunk by chunk. simple-git buffers whole outputs, which is not
 * acceptable for diffs of arbitrary size; this path spawns git directly, still
 * without a shell.
 */
export function gitStream(
  cwd: string,
  args: readonly string[],
  onStdout: (chunk: Buffer) => void,
  opts: Pick<GitOptions, "config" | "env"> = {},
): Promise<void> {
  const configArgs = [...BASE_CONFIG, ...(opts.config ?? [])].flatMap((c) => ["-c", c]);
  return new Promise((resolve, reject) => {
    const child = spawn("git", [...configArgs, ...args], {
      cwd,
      // `as`: Next.js types make NODE_ENV required on ProcessEnv, and the web build type-checks this file.
      env: gitEnv(opts.env) as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
      windowsHide: true,
    });
    const stderr: Buffer[] = [];
    let stderrBytes = 0;
    child.stdout.on("data", (chunk: Buffer) => onStdout(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderrBytes < 64 * 1024) stderr.push(chunk);
      stderrBytes += chunk.length;
    });
    child.on("error", (err) => reject(new GitCommandError(args, -1, "", err.message)));
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new GitCommandError(args, code ?? -1, "", Buffer.concat(stderr).toString("utf8")));
    });
  });
}

/** Splits NUL-terminated output (`-z`), dropping the empty tail. */
export function splitNul(out: string): string[] {
  const parts = out.split("\0");
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}
