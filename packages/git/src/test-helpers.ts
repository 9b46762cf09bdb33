import { git, writeFile } from "@agentboard/testkit";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Runs git synchronously in `cwd` with a fixed identity; returns trimmed stdout. */
export const sh = git;

/** Exit status of a git command instead of its output. */
export function shStatus(cwd: string, ...args: string[]): number {
  try {
    sh(cwd, ...args);
    return 0;
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    return typeof status === "number" ? status : -1;
  }
}

export const write = writeFile;

export interface Fixture {
  /** Temp dir holding everything; removed by cleanup(). */
  root: string;
  /** A non-bare repository with `main` checked out and one commit. */
  repo: string;
  /** Where run worktrees go. */
  worktrees: string;
  cleanup: () => void;
}

export function makeRepo(): Fixture {
  const root = mkdtempSync(path.join(os.tmpdir(), "agentboard-git-test-"));
  const repo = path.join(root, "repo");
  mkdirSync(repo);
  sh(repo, "init", "-q", "-b", "main");
  write(repo, "README.md", "# demo\n");
  write(repo, "src/app.ts", "export const a = 1;\nexport const b = 2;\n");
  write(repo, ".gitignore", "node_modules/\n*.log\n");
  sh(repo, "add", "-A");
  sh(repo, "commit", "-q", "-m", "initial");
  return {
    root,
    repo,
    worktrees: path.join(root, "worktrees"),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
