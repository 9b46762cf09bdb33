/**
 * Child processes in their own process group, so that a cancel reaches everything they
 * started (a test runner's workers, `sleep` in a shell script…), not just the direct child.
 *
 * The one way a run's processes are started and stopped: sandboxed processes
 * (sandbox.ts) are process groups too, led by bubblewrap.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnGroupOptions {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Aborting terminates the whole group (SIGTERM, then SIGKILL after `graceMs`). */
  signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL. Default 3000 ms. */
  graceMs?: number;
  onStdout?(text: string): void;
  /** Raw stdout, for binary output (a git bundle); replaces `onStdout`. */
  onStdoutBytes?(chunk: Buffer): void;
  onStderr?(text: string): void;
  /** "pipe" for a child spoken to on its stdin (an ACP agent); default "ignore". */
  stdin?: "pipe" | "ignore";
  /**
   * Asks the processes to stop, instead of SIGTERM to the group (a sandbox's processes
   * are in a session of their own inside it); SIGKILL to the group still follows.
   */
  softStop?(): void;
}

export interface GroupProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /**
   * Settles once the leader has exited, the rest of its group is gone and its output is
   * drained. Rejects only when the process could not be started (e.g. ENOENT).
   */
  readonly done: Promise<ExitInfo>;
  /** SIGTERM to the group, SIGKILL to whatever is left after the grace period. */
  terminate(graceMs?: number): Promise<void>;
}

export const DEFAULT_GRACE_MS = 3_000;

/** Sends `sig` to every process of the group led by `pgid`; false when none is left. */
export function signalGroup(pgid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}

/** State letter and process group of a process, from /proc (Linux); null if it is gone. */
function procStat(pid: number): { state: string; pgrp: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid pgrp …"; comm may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", pgrp: Number(fields[2]) };
  } catch {
    return null;
  }
}

const HAVE_PROC = existsSync("/proc/self/stat");

/**
 * True while the process runs. A zombie counts as gone: it has exited and only waits for
 * its parent to collect the status, which for orphans may never happen when PID 1 does
 * not reap (as in some containers), while kill(pid, 0) still succeeds on it.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!HAVE_PROC) return true;
  const st = procStat(pid);
  return st !== null && st.state !== "Z" && st.state !== "X";
}

/** True while any process of the group is running (zombies excluded, see isProcessAlive). */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  if (!HAVE_PROC) return true;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return true;
  }
  for (const name of entries) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const st = procStat(pid);
    if (st && st.pgrp === pgid && st.state !== "Z" && st.state !== "X") return true;
  }
  return false;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the group is empty or `ms` has passed; true when it emptied. */
async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  // Processes outside our own children cannot be waited on, only probed.
  while (groupAlive(pgid)) {
    if (Date.now() >= until) return false;
    await delay(25);
  }
  return true;
}

export function spawnGroup(file: string, args: readonly string[], opts: SpawnGroupOptions): GroupProcess {
  const graceDefault = opts.graceMs ?? DEFAULT_GRACE_MS;
  const child = spawn(file, args, {
    cwd: opts.cwd,
    // `as`: Next.js types make NODE_ENV required on ProcessEnv, and the web build type-checks this file.
    env: opts.env as NodeJS.ProcessEnv,
    // setsid(): the child leads a new process group whose id is its pid.
    detached: true,
    stdio: [opts.stdin ?? "ignore", "pipe", "pipe"],
  });

  if (!opts.onStdoutBytes) child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  if (opts.onStdoutBytes) child.stdout?.on("data", opts.onStdoutBytes);
  else if (opts.onStdout) child.stdout?.on("data", opts.onStdout);
  else child.stdout?.resume();
  if (opts.onStderr) child.stderr?.on("data", opts.onStderr);
  else child.stderr?.resume();

  let terminating: Promise<void> | undefined;
  const terminate = (graceMs = graceDefault): Promise<void> => {
    const pid = child.pid;
    if (pid === undefined) return Promise.resolve();
    terminating ??= (async () => {
      if (opts.softStop) opts.softStop();
      else signalGroup(pid, "SIGTERM");
      if (!(await waitGroupGone(pid, graceMs))) {
        signalGroup(pid, "SIGKILL");
        await waitGroupGone(pid, 2_000);
      }
    })();
    return terminating;
  };

  const onAbort = (): void => {
    void terminate();
  };

  const done = new Promise<ExitInfo>((resolve, reject) => {
    let exit: ExitInfo | undefined;
    child.on("error", (err) => {
      // "error" after a successful spawn (a failed kill) is not fatal; exit still follows.
      if (child.pid !== undefined) return;
      opts.signal?.removeEventListener("abort", onAbort);
      reject(err);
    });
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      // The leader is gone, but members of its group may still hold the output pipes
      // open (a backgrounded job); they belong to this run and must not outlive it.
      if (child.pid !== undefined && groupAlive(child.pid)) void terminate();
    });
    child.once("close", (code, signal) => {
      opts.signal?.removeEventListener("abort", onAbort);
      const info = exit ?? { code, signal };
      // Output is drained; settle only once the cleanup of leftovers begun at exit is over.
      (terminating ?? Promise.resolve()).then(
        () => resolve(info),
        () => resolve(info),
      );
    });
  });

  if (opts.signal) {
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener("abort", onAbort, { once: true });
  }

  return {
    get pid(): number {
      return child.pid ?? -1;
    },
    child,
    done,
    terminate,
  };
}

/** Splits a text stream into lines; `end()` flushes a last unterminated line. */
export function createLineSplitter(onLine: (line: string) => void): { push(text: string): void; end(): void } {
  let buffer = "";
  return {
    push(text: string): void {
      buffer += text;
      let nl = buffer.indexOf("\n");
      while (nl !== -1) {
        onLine(buffer.slice(0, nl).replace(/\r$/, ""));
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf("\n");
      }
    },
    end(): void {
      if (buffer.length > 0) onLine(buffer);
      buffer = "";
    },
  };
}

/** Keeps the first and the last part of a long output, up to `max` characters in all. */
export class BoundedOutput {
  private head = "";
  private tail = "";
  private dropped = 0;

  constructor(private readonly max: number) {}

  push(text: string): void {
    const headMax = Math.floor(this.max / 2);
    if (this.head.length < headMax) {
      const take = Math.min(headMax - this.head.length, text.length);
      this.head += text.slice(0, take);
      text = text.slice(take);
    }
    if (text.length === 0) return;
    this.tail += text;
    const tailMax = this.max - headMax;
    if (this.tail.length > tailMax) {
      this.dropped += this.tail.length - tailMax;
      this.tail = this.tail.slice(this.tail.length - tailMax);
    }
  }

  /** The tail only, for error messages. */
  last(chars: number): string {
    const all = this.head + this.tail;
    return all.slice(Math.max(0, all.length - chars));
  }

  toString(): string {
    if (this.dropped === 0) return this.head + this.tail;
    return `${this.head}\n… [${this.dropped} characters omitted] …\n${this.tail}`;
  }
}
