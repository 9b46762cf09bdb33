/**
 * What a run produced: its work committed on the run branch (message: the agent's
 * summary), the diff against the commit the branch started from, and the project's test
 * command's verdict.
 */
import { commitAll, diffAgainstBase, pushBranch, type DiffResult } from "@agentboard/git";
import { runShell, type ShellOptions, type ShellResult } from "./shell.js";

/** Diffs beyond this are cut for the run record; the hash still covers the whole diff. */
const MAX_DIFF_BYTES = 5 * 1024 * 1024;
const MAX_SUBJECT = 72;

export interface CollectedChanges {
  commit: string | null;
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

export async function commitAndDiff(dir: string, baseCommit: string, message: string): Promise<CollectedChanges> {
  const commit = await commitAll({ dir, message });
  const diff = await diffAgainstBase({ dir, baseCommit, maxBytes: MAX_DIFF_BYTES });
  return { commit, diff };
}

/** A clone's run branch only reaches the project (review, merge) once pushed. */
export async function pushRunBranch(dir: string, branch: string, token: string | undefined): Promise<void> {
  // Forced: a retried run re-creates its branch from the base.
  await pushBranch({ dir, branch, token, force: true });
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
