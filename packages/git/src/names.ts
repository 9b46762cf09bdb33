import path from "node:path";

/** Thrown for any externally supplied name, id or path that fails validation. */
export class UnsafeNameError extends Error {
  override readonly name = "UnsafeNameError";
  constructor(
    readonly kind: string,
    readonly value: string,
    reason: string,
  ) {
    // The value is JSON-quoted so control characters cannot forge log lines.
    super(`unsafe ${kind} ${JSON.stringify(value.slice(0, 200))}: ${reason}`);
  }
}

// Covers cuid, cuid2, uuid and short test ids; the first character must not be "-" or "."
// because run ids become path components and branch-name fragments.
const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isValidRunId(runId: string): boolean {
  return RUN_ID_RE.test(runId);
}

export function assertRunId(runId: string): void {
  if (!isValidRunId(runId)) {
    throw new UnsafeNameError("run id", runId, "expected 1-64 of [A-Za-z0-9_-], starting with a letter or digit");
  }
}

// A deliberately narrower alphabet than git allows: everything git-check-ref-format
// rejects is excluded, and so are "@", "{", "+", quotes and non-ASCII, which are legal
// for git but invite confusion in URLs, shells and the UI.
const REF_CHARS_RE = /^[A-Za-z0-9._/-]+$/;
const MAX_REF_LENGTH = 200;

/** Why `name` is not an acceptable branch name, or null when it is. */
export function refNameProblem(name: string): string | null {
  if (name.length === 0) return "empty";
  if (name.length > MAX_REF_LENGTH) return `longer than ${MAX_REF_LENGTH} characters`;
  if (!REF_CHARS_RE.test(name)) return "only letters, digits and . _ / - are allowed";
  if (name.startsWith("-")) return "must not start with '-'";
  if (name.includes("..")) return "must not contain '..'";
  if (name.includes("//")) return "must not contain '//'";
  if (name.startsWith("/") || name.endsWith("/")) return "must not start or end with '/'";
  if (name.endsWith(".")) return "must not end with '.'";
  if (name === "HEAD" || name.startsWith("refs/")) return "must be a plain branch name";
  for (const part of name.split("/")) {
    if (part.startsWith(".")) return "no path component may start with '.'";
    if (part.endsWith(".lock")) return "no path component may end with '.lock'";
  }
  return null;
}

export function isSafeRefName(name: string): boolean {
  return refNameProblem(name) === null;
}

export function assertSafeRefName(name: string, kind = "branch name"): void {
  const problem = refNameProblem(name);
  if (problem !== null) throw new UnsafeNameError(kind, name, problem);
}

const SHA_RE = /^[0-9a-f]{7,64}$/i;

/** Accepts an (abbreviated) object id or a safe branch name; the only revisions callers may pass in. */
export function assertSafeRevision(rev: string, kind = "revision"): void {
  if (SHA_RE.test(rev)) return;
  const problem = refNameProblem(rev);
  if (problem !== null) throw new UnsafeNameError(kind, rev, `not an object id, and ${problem}`);
}

/**
 * Lowercase ASCII slug of a free-text title. Accents are folded first so that
 * "Corrige la sesión" keeps its letters; anything else collapses into "-".
 */
export function slugify(title: string, maxLength = 40): string {
  const folded = title.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  const slug = folded
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, Math.max(1, maxLength))
    .replace(/-+$/g, "");
  return slug.length > 0 ? slug : "run";
}

/**
 * The run id's last 12 letters/digits. For cuid, cuid2 and uuid these are the random
 * part, so two runs only share a branch name if their ids collide there as well.
 */
export function shortRunId(runId: string): string {
  assertRunId(runId);
  return runId
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "")
    .slice(-12);
}

export interface BranchNameInput {
  runId: string;
  title: string;
  /** First path component(s) of the branch; "agentboard" unless a deployment wants its own namespace. */
  prefix?: string;
  /** Upper bound for the slug part. */
  maxSlugLength?: number;
}

/** `agentboard/<slug>-<short id>`: always a valid `git check-ref-format --branch` name. */
export function branchNameForRun({ runId, title, prefix = "agentboard", maxSlugLength = 40 }: BranchNameInput): string {
  assertSafeRefName(prefix, "branch prefix");
  const name = `${prefix}/${slugify(title, maxSlugLength)}-${shortRunId(runId)}`;
  // Belt and braces: the construction above cannot produce a bad name, and this keeps it so.
  assertSafeRefName(name);
  return name;
}

/**
 * Resolves `target` and throws unless it lies strictly inside `root` (the root itself
 * does not count). Purely lexical: callers that must defend against symlinks planted
 * inside `root` should pass realpaths.
 */
export function assertInside(root: string, target: string): string {
  const base = path.resolve(root);
  const resolved = path.resolve(base, target);
  const rel = path.relative(base, resolved);
  if (rel === "" || rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new UnsafeNameError("path", target, `not inside ${base}`);
  }
  return resolved;
}

/** `<worktreesRoot>/<runId>`, refusing run ids that could escape the root. */
export function worktreeDirForRun(worktreesRoot: string, runId: string): string {
  assertRunId(runId);
  return assertInside(worktreesRoot, path.join(path.resolve(worktreesRoot), runId));
}
