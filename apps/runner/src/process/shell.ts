/**
 * Project-configured shell commands (setup script, hooks, test command, DoD checks).
 * These are shell by design: the project's admin wrote them. Run facts (ids, branch,
 * paths) reach them as environment variables, never spliced into the command text.
 */
import { formatDuration } from "../duration.js";
import { BoundedOutput, type ProcessStarter } from "@agentboard/sandbox";

export interface ShellResult {
  command: string;
  /** null when the process was killed. */
  exitCode: number | null;
  signal: string | null;
  ok: boolean;
  /** stdout and stderr interleaved, bounded (head and tail kept). */
  output: string;
  durationMs: number;
  timedOut: boolean;
  timeoutMs: number;
  /** Stopped by the caller's signal (cancel, lost lease, shutdown). */
  aborted: boolean;
}

export interface ShellOptions {
  /** Starts the command (in the run's sandbox, with the phase's network and environment). */
  starter: ProcessStarter;
  /** Variables added to the phase's environment (AGENTBOARD_RUN_STATUS…). */
  env?: Readonly<Record<string, string>>;
  timeoutMs: number;
  signal: AbortSignal;
  killGraceMs: number;
  maxOutputChars?: number;
  onOutput?(stream: "stdout" | "stderr", text: string): void;
}

export async function runShell(command: string, opts: ShellOptions): Promise<ShellResult> {
  const started = Date.now();
  const output = new BoundedOutput(opts.maxOutputChars ?? 64 * 1024);
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([opts.signal, timeout]);
  const forward = (stream: "stdout" | "stderr") => (text: string) => {
    output.push(text);
    opts.onOutput?.(stream, text);
  };
  const proc = opts.starter.start("/bin/sh", ["-c", command], {
    env: opts.env,
    signal,
    graceMs: opts.killGraceMs,
    onStdout: forward("stdout"),
    onStderr: forward("stderr"),
  });
  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  try {
    const exit = await proc.done;
    exitCode = exit.code;
    exitSignal = exit.signal;
  } catch (err) {
    output.push(`could not start /bin/sh: ${err instanceof Error ? err.message : String(err)}\n`);
    exitCode = 127;
  }
  const timedOut = timeout.aborted && !opts.signal.aborted;
  if (timedOut) output.push(`\n[agentboard] timed out after ${opts.timeoutMs} ms\n`);
  return {
    command,
    exitCode,
    signal: exitSignal,
    ok: exitCode === 0 && !signal.aborted,
    output: output.toString(),
    durationMs: Date.now() - started,
    timedOut,
    timeoutMs: opts.timeoutMs,
    aborted: opts.signal.aborted,
  };
}

/** The last `chars` characters, for error messages and event payloads. */
export function tail(text: string, chars: number): string {
  return text.length <= chars ? text : `…${text.slice(text.length - chars)}`;
}

/** "exited with 3", "was killed (SIGKILL)", "timed out after 10m". */
export function describeExit(r: ShellResult): string {
  if (r.timedOut) return `timed out after ${formatDuration(r.timeoutMs)}`;
  return r.exitCode === null ? `was killed (${r.signal ?? "signal"})` : `exited with ${r.exitCode}`;
}

/** A command's result as an event payload. */
export function shellPayload(r: ShellResult) {
  return { command: r.command, exitCode: r.exitCode, ok: r.ok, durationMs: r.durationMs, timedOut: r.timedOut, outputTail: tail(r.output, 4_000) };
}
