/**
 * The run's automatic Definition-of-Done checks (DoD items that carry a `check` shell
 * command), run in the worktree after the agent. Each result is handed to `onResult`, which
 * reports it as check evidence (the server validates the item when the workflow says so).
 */
import { runShell, tail, type ShellOptions, type ShellResult } from "../process/shell.js";

export interface DodCheck {
  id: string;
  key: string;
  title: string;
  check: string | null;
  required: boolean;
  autoValidate: boolean;
}

export interface CheckResult {
  itemId: string;
  key: string;
  title: string;
  command: string;
  exitCode: number | null;
  passed: boolean;
  durationMs: number;
  timedOut: boolean;
  required: boolean;
  autoValidate: boolean;
  /** The last part of the output, enough to see why a check failed. */
  outputTail: string;
}

export interface RunChecksOptions extends ShellOptions {
  onResult(r: CheckResult): Promise<void>;
  /**
   * A result this run already has for the same command in the same worktree (the project's
   * test command, which the `tests` item takes as its check): reported without running it again.
   */
  already?: (command: string) => ShellResult | undefined;
}

export async function runChecks(checks: readonly DodCheck[], opts: RunChecksOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const item of checks) {
    if (!item.check || opts.signal.aborted) continue;
    const r = opts.already?.(item.check) ?? (await runShell(item.check, opts));
    const result: CheckResult = {
      itemId: item.id,
      key: item.key,
      title: item.title,
      command: item.check,
      exitCode: r.exitCode,
      passed: r.ok,
      durationMs: r.durationMs,
      timedOut: r.timedOut,
      required: item.required,
      autoValidate: item.autoValidate,
      outputTail: tail(r.output, 4_000),
    };
    results.push(result);
    await opts.onResult(result);
  }
  return results;
}
