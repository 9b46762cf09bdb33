import { createHash } from "node:crypto";
import { git, gitClient, gitStream, gitTry, splitNul, viaClient } from "./exec.js";
import { assertSafeRevision, UnsafeNameError } from "./names.js";

export interface GitIdentity {
  name: string;
  email: string;
}

export const DEFAULT_AUTHOR: GitIdentity = { name: "agentboard", email: "agentboard@localhost" };

/** `-c user.name/-c user.email`: sets author and committer without touching any config file. */
export function identityConfig(identity: GitIdentity): string[] {
  for (const [field, value] of [
    ["author name", identity.name],
    ["author email", identity.email],
  ] as const) {
    // git rejects or mangles these in ident lines; refuse instead of committing garbage.
    if (value.trim() === "" || /[<>\n\r\0]/.test(value)) {
      throw new UnsafeNameError(field, value, "must be non-empty without <, > or line breaks");
    }
  }
  return [`user.name=${identity.name}`, `user.email=${identity.email}`];
}

export interface CommitAllInput {
  dir: string;
  message: string;
  author?: GitIdentity;
}

/**
 * Stages everything (new files included, .gitignore respected) and commits with
 * `--no-verify`. Returns the new commit id, or null when there was nothing to commit.
 */
export async function commitAll({ dir, message, author = DEFAULT_AUTHOR }: CommitAllInput): Promise<string | null> {
  const config = identityConfig(author);
  if (message.trim() === "") throw new Error("commit message must not be empty");
  await git(dir, ["add", "--all", "--", "."]);
  const staged = await gitTry(dir, ["diff", "--cached", "--quiet", "--no-ext-diff"]);
  if (staged.ok) return null;
  if (staged.error.exitCode !== 1) throw staged.error;
  await git(dir, ["commit", "--no-verify", "--no-edit", "--cleanup=whitespace", "-m", message], { config });
  return viaClient(["rev-parse", "HEAD"], [], () => gitClient(dir, {}, () => ["rev-parse", "HEAD"]).revparse(["HEAD"]));
}

export type FileChangeStatus = "added" | "modified" | "deleted" | "renamed";

export interface FileChange {
  path: string;
  /** Previous path of a rename. */
  oldPath?: string;
  status: FileChangeStatus;
  additions: number;
  deletions: number;
  binary: boolean;
}

export interface DiffStat {
  files: number;
  additions: number;
  deletions: number;
}

export interface DiffResult {
  /** Unified diff, cut at a line boundary when longer than maxBytes. */
  diff: string;
  truncated: boolean;
  /** Size of the full diff in bytes. */
  totalBytes: number;
  files: FileChange[];
  stat: DiffStat;
  /** sha256 (hex) of the full diff, truncated or not: identifies the exact change set. */
  hash: string;
  baseCommit: string;
  headCommit: string;
}

export interface DiffInput {
  dir: string;
  baseCommit: string;
  /** Revision to compare with; the worktree's HEAD by default (run commitAll first). */
  head?: string;
  /** Bound on the returned diff text; 1 MiB by default. */
  maxBytes?: number;
}

// No external diff drivers or textconv filters: they run programs named in repository
// config, and their output would make the hash depend on the host.
const DIFF_FLAGS = ["--no-color", "--no-ext-diff", "--no-textconv", "-M"];

const STATUS_BY_LETTER: Record<string, FileChangeStatus> = {
  A: "added",
  C: "added",
  M: "modified",
  T: "modified",
  D: "deleted",
  R: "renamed",
};

/** Diff of a run's work against the commit its branch started from. */
export async function diffAgainstBase({ dir, baseCommit, head = "HEAD", maxBytes = 1024 * 1024 }: DiffInput): Promise<DiffResult> {
  assertSafeRevision(baseCommit, "base commit");
  if (head !== "HEAD") assertSafeRevision(head, "head revision");
  const base = (await git(dir, ["rev-parse", "--verify", `${baseCommit}^{commit}`])).trim();
  const tip = (await git(dir, ["rev-parse", "--verify", `${head}^{commit}`])).trim();

  const hash = createHash("sha256");
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let totalBytes = 0;
  await gitStream(dir, ["diff", ...DIFF_FLAGS, base, tip, "--"], (chunk) => {
    hash.update(chunk);
    totalBytes += chunk.length;
    if (keptBytes < maxBytes) {
      const slice = chunk.subarray(0, maxBytes - keptBytes);
      kept.push(slice);
      keptBytes += slice.length;
    }
  });
  const truncated = totalBytes > maxBytes;
  let text = Buffer.concat(kept);
  if (truncated) {
    // Ending on a newline keeps the last hunk line whole and avoids splitting a UTF-8 sequence.
    const lastNewline = text.lastIndexOf(0x0a);
    if (lastNewline >= 0) text = text.subarray(0, lastNewline + 1);
  }

  const [nameStatus, numstat] = await Promise.all([
    git(dir, ["diff", ...DIFF_FLAGS, "--name-status", "-z", base, tip, "--"]),
    git(dir, ["diff", ...DIFF_FLAGS, "--numstat", "-z", base, tip, "--"]),
  ]);
  const files = parseNameStatus(nameStatus);
  const counts = parseNumstat(numstat);
  for (const file of files) {
    const c = counts.get(file.path);
    if (c) {
      file.additions = c.additions;
      file.deletions = c.deletions;
      file.binary = c.binary;
    }
  }
  const stat: DiffStat = {
    files: files.length,
    additions: files.reduce((n, f) => n + f.additions, 0),
    deletions: files.reduce((n, f) => n + f.deletions, 0),
  };
  return { diff: text.toString("utf8"), truncated, totalBytes, files, stat, hash: hash.digest("hex"), baseCommit: base, headCommit: tip };
}

function parseNameStatus(out: string): FileChange[] {
  const fields = splitNul(out);
  const files: FileChange[] = [];
  for (let i = 0; i < fields.length; ) {
    const code = fields[i++] ?? "";
    const letter = code.charAt(0);
    const status = STATUS_BY_LETTER[letter] ?? "modified";
    if (letter === "R" || letter === "C") {
      const oldPath = fields[i++] ?? "";
      const newPath = fields[i++] ?? "";
      files.push(
        letter === "R"
          ? { path: newPath, oldPath, status, additions: 0, deletions: 0, binary: false }
          : { path: newPath, status, additions: 0, deletions: 0, binary: false },
      );
    } else {
      files.push({ path: fields[i++] ?? "", status, additions: 0, deletions: 0, binary: false });
    }
  }
  return files;
}

function parseNumstat(out: string): Map<string, { additions: number; deletions: number; binary: boolean }> {
  const fields = splitNul(out);
  const counts = new Map<string, { additions: number; deletions: number; binary: boolean }>();
  for (let i = 0; i < fields.length; ) {
    const record = fields[i++] ?? "";
    const [add = "0", del = "0", inlinePath = ""] = record.split("\t");
    // With -z a rename has an empty path field followed by old and new paths as separate fields.
    let filePath = inlinePath;
    if (inlinePath === "") {
      i++; // old path
      filePath = fields[i++] ?? "";
    }
    const binary = add === "-" && del === "-";
    counts.set(filePath, {
      additions: binary ? 0 : Number.parseInt(add, 10) || 0,
      deletions: binary ? 0 : Number.parseInt(del, 10) || 0,
      binary,
    });
  }
  return counts;
}

export interface StatusEntry {
  path: string;
  origPath?: string;
  /** Porcelain XY codes: index (staged) side and worktree side. */
  index: string;
  worktree: string;
}

export interface CheckoutStatus {
  /** Current branch, null when detached. */
  branch: string | null;
  /** null on an unborn branch. */
  head: string | null;
  clean: boolean;
  entries: StatusEntry[];
  staged: string[];
  unstaged: string[];
  untracked: string[];
  conflicted: string[];
}

const CONFLICT_CODES = new Set(["DD", "AU", "UD", "UA", "DU", "AA", "UU"]);

/** `git status --porcelain -z` including untracked files (ignored ones excluded). */
export async function status(dir: string): Promise<CheckoutStatus> {
  const [out, headRes, branchRes] = await Promise.all([
    git(dir, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]),
    gitTry(dir, ["rev-parse", "--verify", "--quiet", "HEAD"]),
    gitTry(dir, ["symbolic-ref", "--quiet", "--short", "HEAD"]),
  ]);
  const fields = splitNul(out);
  const entries: StatusEntry[] = [];
  for (let i = 0; i < fields.length; ) {
    const record = fields[i++] ?? "";
    const index = record.charAt(0);
    const worktree = record.charAt(1);
    const entry: StatusEntry = { path: record.slice(3), index, worktree };
    // Renames/copies carry the source path in the next field.
    if (index === "R" || index === "C") entry.origPath = fields[i++] ?? "";
    entries.push(entry);
  }
  const conflicted = entries.filter((e) => CONFLICT_CODES.has(e.index + e.worktree)).map((e) => e.path);
  const isConflict = (e: StatusEntry) => CONFLICT_CODES.has(e.index + e.worktree);
  return {
    branch: branchRes.ok ? branchRes.stdout.trim() : null,
    head: headRes.ok ? headRes.stdout.trim() : null,
    clean: entries.length === 0,
    entries,
    staged: entries.filter((e) => !isConflict(e) && e.index !== " " && e.index !== "?").map((e) => e.path),
    unstaged: entries.filter((e) => !isConflict(e) && e.worktree !== " " && e.worktree !== "?").map((e) => e.path),
    untracked: entries.filter((e) => e.index === "?").map((e) => e.path),
    conflicted,
  };
}
