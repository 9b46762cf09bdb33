import { z } from "zod";
import { abortError } from "../abort.js";
import { BoundedOutput } from "@agentboard/sandbox";
import { defineTool, MAX_TOOL_OUTPUT } from "./define.js";
import { ToolError } from "./tool-error.js";

const DEFAULT_TIMEOUT_S = 120;
const MAX_TIMEOUT_S = 1_800;

export const runCommandTool = defineTool({
  name: "run_command",
  description:
    "Run a shell command (/bin/sh -c) in the worktree root and return its exit code and combined " +
    "stdout/stderr (long output keeps its beginning and end). Non-interactive: stdin is closed. " +
    `Killed after timeout_seconds (default ${DEFAULT_TIMEOUT_S}). Background processes it leaves ` +
    "are killed when the command finishes.",
  input: z.object({
    // A person may have to read it before it runs.
    command: z
      .string()
      .min(1)
      .max(64 * 1024),
    timeout_seconds: z.number().positive().max(MAX_TIMEOUT_S).optional(),
  }),
  async approval(input) {
    return { kind: "command", command: input.command };
  },
  async run(input, ctx) {
    const timeoutMs = Math.round((input.timeout_seconds ?? DEFAULT_TIMEOUT_S) * 1_000);
    const stop = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort();
    }, timeoutMs);
    const onCancel = (): void => stop.abort();
    ctx.signal.addEventListener("abort", onCancel, { once: true });
    if (ctx.signal.aborted) stop.abort();

    const output = new BoundedOutput(MAX_TOOL_OUTPUT - 200);
    const sink = (stream: "stdout" | "stderr") => (text: string) => {
      output.push(text);
      ctx.emit({ type: "command.output", payload: { stream, text } });
    };
    try {
      const proc = ctx.starter.start("/bin/sh", ["-c", input.command], {
        cwd: ctx.ws.root,
        signal: stop.signal,
        onStdout: sink("stdout"),
        onStderr: sink("stderr"),
      });
      const exit = await proc.done;
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      if (timedOut) {
        throw new ToolError(`command timed out after ${timeoutMs / 1_000}s and was killed\n${output.toString()}`);
      }
      const status = exit.code !== null ? `exit code ${exit.code}` : `killed by ${exit.signal ?? "signal"}`;
      const text = output.toString();
      return { output: `${status}\n${text.length > 0 ? text : "(no output)"}`, isError: exit.code !== 0 };
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onCancel);
    }
  },
});
