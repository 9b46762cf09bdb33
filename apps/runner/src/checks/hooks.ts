/**
 * Lifecycle hooks from the project's configuration: `pre` commands run before the agent
 * and any failing one vetoes the run; `post` commands run after a successful run and
 * `error` commands after a failed one — both are reported but do not change the outcome.
 */
import { z } from "zod";
import { RunFailure } from "../run/run-failure.js";
import { runShell, type ShellOptions, type ShellResult } from "../process/shell.js";

export type HookKind = "pre" | "post" | "error";

const zHooks = z
  .object({
    pre: z.array(z.string().min(1)).optional(),
    post: z.array(z.string().min(1)).optional(),
    error: z.array(z.string().min(1)).optional(),
  })
  .nullish();

export type ProjectHooks = Record<HookKind, string[]>;

/** The project's `hooks` column (JSON) as lists; malformed configuration is an error, not silence. */
export function parseHooks(raw: unknown): ProjectHooks {
  const parsed = zHooks.safeParse(raw);
  if (!parsed.success) throw new RunFailure("invalid_hooks", `the project's hooks are malformed: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  return { pre: parsed.data?.pre ?? [], post: parsed.data?.post ?? [], error: parsed.data?.error ?? [] };
}

/**
 * Runs the commands in order. With `stopOnFailure`, the first failing command ends the
 * list (a pre hook's veto); the results so far are returned either way.
 */
export async function runHooks(
  kind: HookKind,
  commands: readonly string[],
  opts: ShellOptions & { stopOnFailure: boolean; onResult(kind: HookKind, index: number, result: ShellResult): void },
): Promise<ShellResult[]> {
  const results: ShellResult[] = [];
  for (const [index, command] of commands.entries()) {
    if (opts.signal.aborted) break;
    const result = await runShell(command, opts);
    results.push(result);
    opts.onResult(kind, index, result);
    if (!result.ok && opts.stopOnFailure) break;
  }
  return results;
}
