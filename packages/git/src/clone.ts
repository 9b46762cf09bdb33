import { promises as fs } from "node:fs";
import path from "node:path";
import os from "node:os";
import { git, gitClient, gitTry, redactSecrets, viaClient, type GitOptions } from "./exec.js";
import { assertSafeRefName, UnsafeNameError } from "./names.js";

const ALLOWED_PROTOCOLS = new Set(["https:", "http:", "ssh:", "git:", "file:"]);

interface RemoteAuth {
  /** The URL with any userinfo stripped: safe to store in `.git/config` and to log. */
  url: string;
  /** Per-process git settings carrying the credential, via environment (not argv, not disk). */
  env: Record<string, string>;
  secrets: string[];
}

/**
 * Turns (url, token) into a credential-less URL plus an `http.<origin>.extraHeader` set
 * through GIT_CONFIG_COUNT/KEY/VALUE. Environment rather than `-c`: argv is readable by
 * every local user through `ps`, the environment only by the same user. Scoping the
 * header to the origin keeps it from being sent to other hosts (submodules, redirects).
 */
function remoteAuth(rawUrl: string, token: string | undefined, username: string | undefined): RemoteAuth {
  if (rawUrl.startsWith("-")) throw new UnsafeNameError("clone url", rawUrl, "must not start with '-'");
  let parsed: URL;
  try {
    parsed = new URL(rawUrl);
  } catch {
    throw new UnsafeNameError("clone url", redactSecrets(rawUrl), "not an absolute URL (scp-style addresses are not accepted)");
  }
  if (!ALLOWED_PROTOCOLS.has(parsed.protocol)) {
    throw new UnsafeNameError("clone url", redactSecrets(rawUrl), `protocol ${parsed.protocol} is not allowed`);
  }
  const urlUser = decodeURIComponent(parsed.username);
  const urlPassword = decodeURIComponent(parsed.password);
  const secret = token ?? (urlPassword || undefined);
  const secrets = [token, urlPassword, parsed.password].filter((s): s is string => !!s && s.length > 0);
  if (parsed.protocol === "ssh:" || parsed.protocol === "git:" || parsed.protocol === "file:") {
    // No HTTP header to carry a token on these transports; keep the user for ssh only.
    if (parsed.protocol !== "ssh:") parsed.username = "";
    parsed.password = "";
    return { url: parsed.toString(), env: {}, secrets };
  }
  parsed.username = "";
  parsed.password = "";
  const url = parsed.toString();
  if (!secret) return { url, env: {}, secrets };
  const basic = Buffer.from(`${username ?? (urlUser || "x-access-token")}:${secret}`, "utf8").toString("base64");
  secrets.push(basic);
  return {
    url,
    env: {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: `http.${parsed.origin}/.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    },
    secrets,
  };
}

export interface CloneForRunInput {
  url: string;
  /** HTTP(S) token (GitHub/GitLab/Gitea PAT or app token); sent as Basic auth, never stored. */
  token?: string;
  /** Basic-auth user name paired with the token; "x-access-token" unless given in the URL. */
  username?: string;
  dir: string;
  /** Branch to check out (the run's base branch). */
  branch: string;
  /** Also create and switch to this branch, e.g. the run branch. */
  newBranch?: string;
  /** Shallow clone depth; full history when omitted (merges need it). */
  depth?: number;
  /** Abort when git shows no progress for this long. */
  timeoutMs?: number;
  /** A bare clone (no checkout, `newBranch` ignored): the runner's own copy that run clones are made from. */
  bare?: boolean;
}

export interface ClonedRepo {
  path: string;
  branch: string;
  /** Commit the base branch pointed at when cloned. */
  baseCommit: string;
  /** The credential-less URL recorded as `origin`. */
  url: string;
}

/**
 * Clone for a runner on another machine. The token never reaches `.git/config`, argv
 * or error messages; later fetches/pushes pass it again through {@link pushBranch}.
 */
export async function cloneForRun(input: CloneForRunInput): Promise<ClonedRepo> {
  assertSafeRefName(input.branch, "branch");
  if (input.newBranch !== undefined) assertSafeRefName(input.newBranch, "new branch");
  const auth = remoteAuth(input.url, input.token, input.username);
  const target = path.resolve(input.dir);
  const parent = path.dirname(target);
  await fs.mkdir(parent, { recursive: true });
  const opts: GitOptions = { env: auth.env, secrets: auth.secrets, timeoutMs: input.timeoutMs ?? 10 * 60_000 };
  const options = ["--no-recurse-submodules", "--branch", input.branch];
  if (input.bare) options.push("--bare");
  if (input.depth !== undefined) options.push("--depth", String(Math.max(1, Math.floor(input.depth))));
  const args = ["clone", ...options, auth.url, target];
  try {
    await viaClient(args, auth.secrets, () => gitClient(parent, opts, () => args).clone(auth.url, target, options));
  } catch (err) {
    // A failed clone can leave a partial directory behind; the caller's retry needs it gone.
    await fs.rm(target, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  const baseCommit = await revParse(target, `refs/heads/${input.branch}^{commit}`);
  if (input.bare) return { path: target, branch: input.branch, baseCommit, url: auth.url };
  if (input.newBranch !== undefined) {
    const newBranch = input.newBranch;
    await viaClient(["checkout", "-b", newBranch], [], () => gitClient(target, {}, () => ["checkout", "-b", newBranch]).checkoutLocalBranch(newBranch));
  }
  return { path: target, branch: input.newBranch ?? input.branch, baseCommit, url: auth.url };
}

export interface PushBranchInput {
  dir: string;
  branch: string;
  /** Remote URL; defaults to the clone's `origin` URL. */
  url?: string;
  token?: string;
  username?: string;
  /** Overwrite the remote branch (a retried run re-creates its branch). */
  force?: boolean;
  timeoutMs?: number;
}

/** Pushes `refs/heads/<branch>` to the same name on the remote, with the same token handling as {@link cloneForRun}. */
export async function pushBranch(input: PushBranchInput): Promise<void> {
  assertSafeRefName(input.branch);
  const url = input.url ?? (await originUrl(input.dir));
  const auth = remoteAuth(url, input.token, input.username);
  const refspec = `${input.force ? "+" : ""}refs/heads/${input.branch}:refs/heads/${input.branch}`;
  const opts: GitOptions = { env: auth.env, secrets: auth.secrets, timeoutMs: input.timeoutMs ?? 10 * 60_000 };
  const args = ["push", "--no-verify", auth.url, refspec];
  await viaClient(args, auth.secrets, () => gitClient(input.dir, opts, () => args).push(auth.url, refspec, ["--no-verify"]));
}

export interface FetchBranchInput {
  dir: string;
  branch: string;
  url?: string;
  token?: string;
  username?: string;
  timeoutMs?: number;
}

/** Fetches `refs/heads/<branch>` from the remote into the clone (a follow-up's thread branch), same token handling. */
export async function fetchBranch(input: FetchBranchInput): Promise<void> {
  assertSafeRefName(input.branch);
  const url = input.url ?? (await originUrl(input.dir));
  const auth = remoteAuth(url, input.token, input.username);
  const refspec = `+refs/heads/${input.branch}:refs/heads/${input.branch}`;
  const opts: GitOptions = { env: auth.env, secrets: auth.secrets, timeoutMs: input.timeoutMs ?? 10 * 60_000 };
  const args = ["fetch", "--quiet", "--no-tags", auth.url, refspec];
  await viaClient(args, auth.secrets, () => gitClient(input.dir, opts, () => args).fetch(auth.url, refspec, ["--quiet", "--no-tags"]));
}

async function originUrl(dir: string): Promise<string> {
  return (await git(dir, ["remote", "get-url", "origin"])).trim();
}

async function revParse(dir: string, rev: string): Promise<string> {
  return viaClient(["rev-parse", rev], [], () => gitClient(dir, {}, () => ["rev-parse", rev]).revparse([rev]));
}

export interface ProbeRemoteInput {
  url: string;
  /** Also say whether the remote has `refs/heads/<branch>`. */
  branch: string;
  token?: string;
  username?: string;
  /** Give up when git shows no progress for this long (default 15 s). */
  timeoutMs?: number;
}

export type RemoteProbe = { reachable: true; hasBranch: boolean } | { reachable: false; message: string };

/**
 * Whether a remote answers as a git repository (`git ls-remote`), and whether it has the
 * branch: a project whose remote is mistyped is refused when it is saved, not when a run
 * starts. Same URL rules and token handling as {@link cloneForRun}; nothing is written.
 */
export async function probeRemote(input: ProbeRemoteInput): Promise<RemoteProbe> {
  assertSafeRefName(input.branch);
  let auth: RemoteAuth;
  try {
    auth = remoteAuth(input.url, input.token, input.username);
  } catch (err) {
    if (err instanceof UnsafeNameError) return { reachable: false, message: err.message };
    throw err;
  }
  const tmp = os.tmpdir();
  const result = await gitTry(tmp, ["ls-remote", "--heads", "--", auth.url, `refs/heads/${input.branch}`], {
    env: auth.env,
    secrets: auth.secrets,
    timeoutMs: input.timeoutMs ?? 15_000,
  });
  if (!result.ok) {
    const detail = (result.error.stderr.trim() || result.error.message)
      .split("\n")
      .filter((l) => l.trim() !== "")
      .slice(-2)
      .join(" ");
    return { reachable: false, message: detail.slice(0, 500) };
  }
  return { reachable: true, hasBranch: result.stdout.trim() !== "" };
}
