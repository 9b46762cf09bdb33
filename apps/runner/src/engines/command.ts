/**
 * The `command` engine: one shell command in the worktree, its output streamed as events.
 * Useful for scripted tasks and for tests of everything around the engines.
 */
import { abortError, throwIfAborted } from "./abort.js";
import { approvalFor } from "./approval.js";
import { BoundedOutput, DEFAULT_GRACE_MS, plainStarter, type ExitInfo } from "@agentboard/sandbox";
import { EngineError, type AgentEngine, type EngineContext, type EngineResult } from "./types.js";

export interface CommandEngineOptions {
  /** Time between SIGTERM and SIGKILL on cancel. */
  graceMs?: number;
  /** Shell used for `-c`. */
  shell?: string;
}

const TAIL_CHARS = 2_000;

export class CommandEngine implements AgentEngine {
  readonly name = "command" as const;

  constructor(private readonly options: CommandEngineOptions = {}) {}

  async run(ctx: EngineContext): Promise<EngineResult> {
    const command = ctx.command?.trim();
    if (!command) throw new EngineError("engine_error", "the command engine needs a command to run");
    throwIfAborted(ctx.signal);
    // The command is the engine's one tool call: under a policy it waits for a person first.
    const answer = await approvalFor(ctx, "command", { kind: "command", command });
    throwIfAborted(ctx.signal);
    if (answer && answer.decision !== "granted") {
      const why = answer.decision === "expired" ? "no one approved it in time" : `${answer.by ?? "a person"} denied it${answer.note ? `: ${answer.note}` : ""}`;
      throw new EngineError("approval_denied", `the command was not run: ${why}`);
    }

    const output = new BoundedOutput(64 * 1024);
    const forward = (stream: "stdout" | "stderr") => (text: string) => {
      output.push(text);
      ctx.emit({ type: "command.output", payload: { stream, text } });
    };
    const starter = ctx.starter ?? plainStarter(ctx.env);
    const proc = starter.start(this.options.shell ?? "/bin/sh", ["-c", command], {
      cwd: ctx.worktree,
      signal: ctx.signal,
      graceMs: this.options.graceMs ?? DEFAULT_GRACE_MS,
      onStdout: forward("stdout"),
      onStderr: forward("stderr"),
    });

    let exit: ExitInfo;
    try {
      exit = await proc.done;
    } catch (err) {
      throw new EngineError("engine_error", `could not start the command: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (ctx.signal.aborted) throw abortError(ctx.signal);
    if (exit.code !== 0) {
      const how = exit.code !== null ? `exited with code ${exit.code}` : `was killed by ${exit.signal ?? "a signal"}`;
      const tail = output.last(TAIL_CHARS).trimEnd();
      throw new EngineError("engine_error", `command ${how}${tail ? `; last output:\n${tail}` : ""}`);
    }
    // Deterministic, so that commits made from scripted runs are predictable.
    const shown = command.length > 200 ? `${command.slice(0, 200)}…` : command;
    return {
      summary: `Ran: ${shown}`,
      tokensIn: 0,
      tokensOut: 0,
      costUsd: 0,
      toolCalls: 0,
      turns: 1,
    };
  }
}
