import { git, makeRepoFixture, writeFile, type RepoFixture } from "@agentboard/testkit";

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

export type Fixture = RepoFixture;

export function makeRepo(): Fixture {
  return makeRepoFixture("agentboard-git-test-", {
    "README.md": "# demo\n",
    "src/app.ts": "export const a = 1;\nexport const b = 2;\n",
    ".gitignore": "node_modules/\n*.log\n",
  });
}
