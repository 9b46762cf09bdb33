/**
 * What a run produced: its work committed on the run branch (message: the agent's
 * summary), the diff against the commit the branch started from, and the project's test
 * command's verdict.
 *
 * The checkout is the agent's: its `.git` (config, hooks, attributes, even what `.git`
 * is) may have been written by the agent. So the runner's own git commands there — add,
 * commit, bundle — run inside the run's sandbox like any of the agent's commands, and
 * only data leaves it: a git bundle on stdout. The bundle is fetched into the source
 * repository (objects checked), and the diff is computed there, with the repository's
 * own configuration.
 */
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { finished } from "node:stream/promises";
import { diffAgainstBase, fetchRunBundle, pushBranch, setBranch, RESULT_REF, type DiffResult } from "@agentboard/git";
import { BoundedOutput, type ProcessStarter } from "@agentboard/sandbox";
import { runShell, type ShellOptions, type ShellResult } from "../process/shell.js";

/** Diffs beyond this are cut for the run record; the hash still covers the whole diff. */
const MAX_DIFF_BYTES = 5 * 1024 * 1024;
const MAX_SUBJECT = 72;

export interface CollectedChanges {
  /** The run branch's tip, or null when the run left its start commit as it was. */
  commit: string | null;
  /** The run branch's tip, changed or not. */
  tip: string;
  diff: DiffResult;
}

/** A git commit message from free text: a short subject line, the rest as body. */
export function commitMessage(summary: string, fallback: string): string {
  const text = summary.trim() || fallback;
  const [first = fallback, ...rest] = text.split("\n");
  let subject = first.trim();
  let body = rest.join("\n").trim();
  if (subject.length > MAX_SUBJECT) {
    body = `${subject}\n\n${body}`.trim();
    subject = `${subject.slice(0, MAX_SUBJECT - 1).trimEnd()}…`;
  }
  return body ? `${subject}\n\n${body.slice(0, 50_000)}` : subject;
}

// Every git command the runner runs in a checkout: hooks, fsmonitor and signing off, our own identity.
const GIT_WRAPPER = `g() {
  git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c commit.gpgSign=false \\
    -c user.name=agentboard -c user.email=agentboard@localhost "$@"
}`;

// Everything staged (new files too, .gitignore respected), committed without hooks or
// signing, the result named by a ref of ours, its id printed. Agent commits count: the
// run's result is whatever HEAD is.
const COMMIT_SCRIPT = `set -e
${GIT_WRAPPER}
g add --all -- .
if ! g diff --cached --quiet --no-ext-diff || g rev-parse -q --verify MERGE_HEAD >/dev/null; then
  g commit --quiet --no-verify --no-edit --cleanup=whitespace -m "$AGENTBOARD_COMMIT_MESSAGE"
fi
g update-ref ${RESULT_REF} HEAD
g rev-parse HEAD`;

async function runIn(
  starter: ProcessStarter,
  args: string[],
  opts: { env?: Record<string, string>; signal: AbortSignal; stdout?: (chunk: Buffer) => void },
): Promise<string> {
  const out = new BoundedOutput(16 * 1024);
  const err = new BoundedOutput(8 * 1024);
  const proc = starter.start(args[0] ?? "/bin/sh", args.slice(1), {
    env: opts.env,
    signal: opts.signal,
    ...(opts.stdout ? { onStdoutBytes: opts.stdout } : { onStdout: (t: string) => out.push(t) }),
    onStderr: (t) => err.push(t),
  });
  const exit = await proc.done;
  if (exit.code !== 0) throw new Error(`${exit.code === null ? `killed (${exit.signal})` : `exit ${exit.code}`}: ${err.last(2_000).trim()}`);
  return out.toString();
}

export interface CollectInput {
  /** Starts the runner's git commands in the checkout (the sandbox's "collect" phase: no network). */
  starter: ProcessStarter;
  /** The repository the run branch goes to: the project's, or the runner's copy of its remote. */
  sourceRepo: string;
  /** What the diff is taken against (where the branch forked from the base). */
  baseCommit: string;
  /** What the checkout started at: the base commit, or a follow-up's branch tip. */
  startCommit: string;
  branch: string;
  message: string;
  /** Where the bundle is written (runner-owned, outside the sandbox). */
  bundleFile: string;
  signal: AbortSignal;
}

export async function commitAndDiff(input: CollectInput): Promise<CollectedChanges> {
  const printed = await runIn(input.starter, ["/bin/sh", "-c", COMMIT_SCRIPT], { env: { AGENTBOARD_COMMIT_MESSAGE: input.message }, signal: input.signal });
  const tip = printed.trim().split("\n").at(-1) ?? "";
  if (!/^[0-9a-f]{40,64}$/.test(tip)) throw new Error(`the commit in the checkout printed no commit id: ${printed.slice(-200)}`);

  if (tip === input.startCommit) {
    await setBranch(input.sourceRepo, input.branch, tip);
  } else {
    const file = createWriteStream(input.bundleFile, { mode: 0o600 });
    try {
      await runIn(input.starter, ["git", "bundle", "create", "--quiet", "-", RESULT_REF, "--not", input.startCommit], {
        signal: input.signal,
        stdout: (chunk) => file.write(chunk),
      });
      file.end();
      await finished(file);
      const fetched = await fetchRunBundle({ repoPath: input.sourceRepo, bundle: input.bundleFile, branch: input.branch });
      if (fetched !== tip) throw new Error(`the run's bundle holds ${fetched}, not ${tip}`);
    } catch (err) {
      // An agent that reset to an older commit leaves nothing to bundle; that commit is in the repository already.
      if (!String(err).includes("empty bundle")) throw err;
      await setBranch(input.sourceRepo, input.branch, tip);
    } finally {
      file.destroy();
      await rm(input.bundleFile, { force: true });
    }
  }
  const diff = await diffAgainstBase({ dir: input.sourceRepo, baseCommit: input.baseCommit, head: tip, maxBytes: MAX_DIFF_BYTES });
  return { commit: tip === input.startCommit ? null : tip, tip, diff };
}

/**
 * A taken-over checkout (a follow-up on the runner that ran its parent) moved to the
 * thread's tip, inside the sandbox like every git command in an agent's clone. Its ignored
 * files (dependencies, caches) stay; tracked changes are the tip's.
 */
export async function checkoutStart(starter: ProcessStarter, branch: string, commit: string, signal: AbortSignal): Promise<void> {
  if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`not a commit id: ${commit}`);
  if (!/^[A-Za-z0-9._/-]+$/.test(branch) || branch.startsWith("-")) throw new Error(`unsafe branch name: ${branch}`);
  await runIn(starter, ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "checkout", "--quiet", "--force", "-B", branch, commit], {
    signal,
  });
}

/** A remote project's run branch only reaches it (review, merge) once pushed from the runner's copy. */
export async function pushRunBranch(sourceRepo: string, branch: string, token: string | undefined): Promise<void> {
  // Forced: a retried run re-creates its branch from the base.
  await pushBranch({ dir: sourceRepo, branch, token, force: true });
}

export interface TestVerdict {
  testsRun: boolean;
  testsPassed?: boolean;
  testOutput?: string;
  result?: ShellResult;
}

export async function runTestCommand(command: string | null | undefined, opts: ShellOptions): Promise<TestVerdict> {
  if (!command?.trim()) return { testsRun: false };
  const result = await runShell(command, { ...opts, maxOutputChars: 512 * 1024 });
  return { testsRun: true, testsPassed: result.ok, testOutput: result.output, result };
}

// The base merged in, not committed: conflicts stay in the files for the agent. Prints the
// conflicting files, one a line.
const START_MERGE_SCRIPT = `${GIT_WRAPPER}
g merge --quiet --no-ff --no-commit --no-edit "$AGENTBOARD_MERGE_COMMIT" >/dev/null 2>&1 || true
g diff --name-only --diff-filter=U`;

// Files that still hold a conflict marker line (of those that conflicted), one a line.
const MARKERS_SCRIPT = `printf '%s\\n' "$AGENTBOARD_CONFLICTS" | while IFS= read -r f; do
  [ -n "$f" ] && [ -f "$f" ] && grep -qE '^(<<<<<<<|>>>>>>>)( |$)' -- "$f" && printf '%s\\n' "$f"
done; true`;

/** A resolve-conflicts run: merges `commit` (the base's tip) into the checkout, leaving conflicts; returns the conflicting files. */
export async function startMerge(starter: ProcessStarter, commit: string, signal: AbortSignal): Promise<string[]> {
  if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`not a commit id: ${commit}`);
  const out = await runIn(starter, ["/bin/sh", "-c", START_MERGE_SCRIPT], { env: { AGENTBOARD_MERGE_COMMIT: commit }, signal });
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/** Which of the files that conflicted still hold conflict markers. */
export async function unresolvedConflicts(starter: ProcessStarter, files: string[], signal: AbortSignal): Promise<string[]> {
  if (files.length === 0) return [];
  const out = await runIn(starter, ["/bin/sh", "-c", MARKERS_SCRIPT], { env: { AGENTBOARD_CONFLICTS: files.join("\n") }, signal });
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}
