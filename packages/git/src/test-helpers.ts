import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// Test-side git runs with the same isolation as the library: a GIT_DIR inherited from a
// hook (tests started by a pre-commit hook) must not redirect fixtures to the real repo.
function env(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_")) out[k] = v;
  return { ...out, LC_ALL: "C" };
}

/** Runs git synchronously in `cwd` with a fixed identity; returns trimmed stdout. */
export function sh(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgSign=false", ...args], {
    cwd,
    env: env(),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

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

export function write(dir: string, rel: string, content: string): void {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

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
