/**
 * Counts the git processes one `mergeRunBranch` starts: a `git` on PATH logs its arguments,
 * then runs the real one. The base checkout is clean, so the merge does the most work (it
 * also brings that checkout up to date). Prints each command and the total.
 *
 *   npx tsx packages/git/scripts/count-merge-processes.ts [path/to/packages/git/src/index.ts]
 *
 * The argument measures another checkout's git package (e.g. main's, for a before/after).
 * The processes git starts itself are not on PATH; count them too with
 *   strace -f -e trace=execve -o trace.txt npx tsx ...
 * and the execve lines between the `true merge-starts` and `true merge-ended` markers.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const modulePath = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "../src/index.ts");
const { mergeRunBranch } = (await import(pathToFileURL(path.resolve(modulePath)).href)) as typeof import("../src/index.js");

const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
const root = mkdtempSync(path.join(os.tmpdir(), "agentboard-count-"));
const repo = path.join(root, "repo");
const sh = (...args: string[]) => execFileSync(realGit, ["-c", "user.name=T", "-c", "user.email=t@example.com", ...args], { cwd: repo, encoding: "utf8" });
const log = path.join(root, "calls.log");
try {
  mkdirSync(repo);
  sh("init", "-q", "-b", "main");
  writeFileSync(path.join(repo, "README.md"), "# demo\n");
  sh("add", "-A");
  sh("commit", "-q", "-m", "initial");
  sh("checkout", "-q", "-b", "agentboard/r1");
  writeFileSync(path.join(repo, "feature.txt"), "feature\n");
  sh("add", "-A");
  sh("commit", "-q", "-m", "run work");
  sh("checkout", "-q", "main");
  writeFileSync(path.join(repo, "base.txt"), "base moved on\n");
  sh("add", "-A");
  sh("commit", "-q", "-m", "base work");

  const bin = path.join(root, "bin");
  mkdirSync(bin);
  writeFileSync(path.join(bin, "git"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${realGit}' "$@"\n`);
  chmodSync(path.join(bin, "git"), 0o755);
  writeFileSync(log, "");
  process.env.PATH = `${bin}${path.delimiter}${process.env.PATH ?? ""}`;

  // Markers for `strace -f -e trace=execve`, which also sees the processes git starts itself.
  execFileSync("true", ["merge-starts"]);
  const res = await mergeRunBranch({ repoPath: repo, baseBranch: "main", branch: "agentboard/r1", author: { name: "A", email: "a@example.com" } });
  execFileSync("true", ["merge-ended"]);
  const calls = readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l !== "");
  for (const c of calls) console.log(`  git ${c.replace(/-c \S+ /g, "")}`);
  console.log(`status=${res.status} checkout=${JSON.stringify(res.checkout)}`);
  console.log(`git processes per merge: ${calls.length} (rev-parse --git-common-dir: ${calls.filter((c) => c.includes("--git-common-dir")).length})`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
