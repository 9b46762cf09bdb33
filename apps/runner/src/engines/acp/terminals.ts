/**
 * The agent's terminals (`terminal/create`, `/output`, `/wait_for_exit`, `/kill`,
 * `/release`): each is started in the run's sandbox (the runner's process starter) in the
 * worktree (or a directory inside it), with the sandbox's environment plus the variables the
 * agent asks for. Output is streamed to the run as `command.output` events and kept, up to
 * the agent's byte limit, for `terminal/output`. Every terminal ends with the run.
 */
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { RequestError, type CreateTerminalRequest, type TerminalExitStatus } from "@agentclientprotocol/sdk";
import { DEFAULT_GRACE_MS, type GroupProcess, type ProcessStarter } from "@agentboard/sandbox";
import { resolveInWorkspace, type Workspace } from "../tools/paths.js";
import { ToolError } from "../tools/tool-error.js";
import type { EngineEvent } from "../types.js";

const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;

interface Terminal {
  proc: GroupProcess;
  kept: { output: string; truncated: boolean };
  exit: TerminalExitStatus | null;
  done: Promise<TerminalExitStatus>;
}

export class Terminals {
  private readonly open = new Map<string, Terminal>();

  constructor(
    private readonly ws: Workspace,
    private readonly starter: ProcessStarter,
    private readonly signal: AbortSignal,
    private readonly emit: (e: EngineEvent) => void,
    private readonly graceMs = DEFAULT_GRACE_MS,
    /** Asked before a terminal starts (the run's approval policy); throws to refuse it. */
    private readonly approve: (file: string, args: readonly string[]) => Promise<void> = async () => undefined,
  ) {}

  async create(req: CreateTerminalRequest): Promise<string> {
    let cwd = this.ws.root;
    if (req.cwd) {
      try {
        cwd = await resolveInWorkspace(this.ws, req.cwd);
      } catch (err) {
        if (err instanceof ToolError) throw RequestError.invalidParams({ cwd: req.cwd }, err.message);
        throw err;
      }
      if (!(await stat(cwd).catch(() => null))?.isDirectory()) throw RequestError.invalidParams({ cwd: req.cwd }, "cwd is not a directory");
    }
    const env = Object.fromEntries((req.env ?? []).map((v) => [v.name, v.value]));
    const id = randomUUID();
    const limit = req.outputByteLimit ?? DEFAULT_OUTPUT_LIMIT;
    const kept = { output: "", truncated: false };
    const take = (stream: "stdout" | "stderr") => (text: string) => {
      this.emit({ type: "command.output", payload: { stream, text } });
      kept.output += text;
      if (Buffer.byteLength(kept.output) > limit) {
        // Keep the end, cut at a character boundary.
        const bytes = Buffer.from(kept.output);
        kept.output = bytes
          .subarray(bytes.length - limit)
          .toString("utf8")
          .replace(/^\uFFFD+/, "");
        kept.truncated = true;
      }
    };
    // A command without arguments is a command line (what agents such as Claude Code's
    // adapter send, and how editors run it): through the shell. With arguments, exec'd as is.
    const [file, args] = req.args?.length ? [req.command, req.args] : ["/bin/sh", ["-c", req.command]];
    await this.approve(file, args);
    const proc = this.starter.start(file, args, { cwd, env, signal: this.signal, graceMs: this.graceMs, onStdout: take("stdout"), onStderr: take("stderr") });
    const term: Terminal = {
      proc,
      kept,
      exit: null,
      done: proc.done.then(
        (e) => (term.exit = { exitCode: e.code, signal: e.signal }),
        (err: unknown) => {
          take("stderr")(`cannot start ${req.command}: ${err instanceof Error ? err.message : String(err)}\n`);
          return (term.exit = { exitCode: 127, signal: null });
        },
      ),
    };
    this.open.set(id, term);
    return id;
  }

  private get(id: string): Terminal {
    const term = this.open.get(id);
    if (!term) throw new RequestError(-32002, `no terminal ${id}`, { terminalId: id });
    return term;
  }

  output(id: string) {
    const t = this.get(id);
    return { output: t.kept.output, truncated: t.kept.truncated, exitStatus: t.exit };
  }

  async waitForExit(id: string): Promise<TerminalExitStatus> {
    return this.get(id).done;
  }

  async kill(id: string): Promise<void> {
    await this.get(id).proc.terminate(this.graceMs);
  }

  async release(id: string): Promise<void> {
    const t = this.get(id);
    this.open.delete(id);
    await t.proc.terminate(this.graceMs);
  }

  /** Ends every terminal still open (the run is over). */
  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((t) => t.proc.terminate(this.graceMs)));
  }
}
