import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * git for test fixtures, isolated like the product's own git calls: a GIT_DIR inherited
 * from a hook (tests started by a pre-commit hook) must not redirect fixtures to the real
 * repository, and a fixed identity makes commits reproducible.
 */
function gitEnv(): NodeJS.ProcessEnv {
  // `as`: Next.js types make NODE_ENV required on ProcessEnv.
  const env = {} as NodeJS.ProcessEnv;
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_")) env[k] = v;
  return { ...env, LC_ALL: "C" };
}

/** Runs git in `cwd`; returns trimmed stdout, throws on a non-zero exit. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgSign=false", ...args], {
    cwd,
    env: gitEnv(),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

export function writeFile(dir: string, rel: string, content: string): void {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) writeFile(dir, rel, content);
}

/** Makes `dir` a repository with `main` checked out and one commit of `files`. */
export function initRepo(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  writeFiles(dir, files);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "initial");
  return dir;
}

export interface RepoFixture {
  /** Temp dir holding everything; removed by cleanup(). */
  root: string;
  /** A non-bare repository with `main` checked out and one commit. */
  repo: string;
  /** Where run worktrees go. */
  worktrees: string;
  cleanup(): void;
}

/** A temp dir with a repository of `files` in it and room for worktrees beside it. */
/** A repository (and a place for its worktrees) in a new directory under `parent` (the system's temporary directory by default). */
export function makeRepoFixture(prefix: string, files: Record<string, string>, parent: string = os.tmpdir()): RepoFixture {
  const root = mkdtempSync(path.join(parent, prefix));
  return {
    root,
    repo: initRepo(path.join(root, "repo"), files),
    worktrees: path.join(root, "worktrees"),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
