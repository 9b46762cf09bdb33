/**
 * The `acp` engine: any agent that speaks the Agent Client Protocol over stdio, started from
 * the run's agent profile (program, arguments, environment) in the worktree. The runner is
 * the ACP client: it opens a session on the worktree, sends the prompt, turns the agent's
 * session updates into run events, answers its permission requests (a person through the
 * run's approvals when the workflow's policy holds the call, else the profile's policy),
 * and serves its file and terminal requests inside the worktree only. Cancel sends
 * `session/cancel`; an agent that does not stop within the grace period is killed with its
 * process group.
 */
import { Writable } from "node:stream";
import { client, ndJsonStream, PROTOCOL_VERSION, type PromptResponse } from "@agentclientprotocol/sdk";
import { abortError, throwIfAborted } from "../abort.js";
import { BoundedOutput, DEFAULT_GRACE_MS, plainStarter, type GroupProcess, type ProcessStarter } from "@agentboard/sandbox";
import { openWorkspace } from "../tools/paths.js";
import { EngineError, type AgentEngine, type AgentSpec, type EngineContext, type EngineResult } from "../types.js";
import { readTextFile, writeTextFile } from "./files.js";
import { agentInstallDirs } from "./install-dirs.js";
import { HeldCalls } from "./held-calls.js";
import { answerPermission } from "./permissions.js";
import { Terminals } from "./terminals.js";
import { UpdateMapper } from "./updates.js";

export interface AcpEngineOptions {
  /** How long an agent has to answer a cancel before its process group is killed. */
  graceMs?: number;
  /** A streaming message is sent as an event once its chunks pause this long (default 500 ms). */
  messageIdleMs?: number;
}

/** The agent's stdout as the byte stream ACP reads; it ends when the process does. */
function stdoutStream(): { stream: ReadableStream<Uint8Array>; push(text: string): void; end(): void } {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  // The connection cancels its reader when it closes; output after that has nowhere to go.
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c), cancel: () => void (ended = true) });
  return {
    stream,
    push: (text) => {
      if (!ended) controller.enqueue(encoder.encode(text));
    },
    end: () => {
      if (ended) return;
      ended = true;
      controller.close();
    },
  };
}

function startAgent(agent: AgentSpec, ctx: EngineContext, starter: ProcessStarter, kill: AbortSignal, graceMs: number) {
  const out = stdoutStream();
  const stderr = new BoundedOutput(16 * 1024);
  const proc: GroupProcess = starter.start(agent.command, agent.args, {
    cwd: ctx.worktree,
    env: agent.env,
    // The agent's program (an npm package, a script) is bound read-only into the sandbox.
    readOnly: agentInstallDirs(agent.command, agent.args),
    // The agent talks to the model as Claude Code does: through the runner's model proxy
    // (unconfined: with the runner's key); the terminals it starts never get either.
    model: true,
    signal: kill,
    graceMs,
    stdin: "pipe",
    onStdout: out.push,
    onStderr: (t) => stderr.push(t),
  });
  const exited = proc.done.then(
    (exit) => exit,
    (err: unknown) => {
      stderr.push(`cannot start ${agent.command}: ${err instanceof Error ? err.message : String(err)}`);
      return { code: 127, signal: null };
    },
  );
  void exited.finally(out.end);
  const stdin = proc.child.stdin;
  if (!stdin) throw new EngineError("engine_error", "the agent's stdin is not a pipe");
  stdin.on("error", () => undefined); // EPIPE once the agent has gone: the exit reports it.
  return { proc, exited, stderr, stream: ndJsonStream(Writable.toWeb(stdin) as WritableStream<Uint8Array>, out.stream) };
}

export class AcpEngine implements AgentEngine {
  readonly name = "acp" as const;

  constructor(private readonly options: AcpEngineOptions = {}) {}

  async run(ctx: EngineContext): Promise<EngineResult> {
    const agent = ctx.agent;
    if (!agent) throw new EngineError("engine_error", "the acp engine needs an agent profile");
    throwIfAborted(ctx.signal);
    // A policy that holds calls for a person needs a way to ask; never answer them unasked.
    if ((ctx.approval ?? "none") !== "none" && !ctx.requestApproval) {
      throw new EngineError("approval_unsupported", `the run requires approval of ${ctx.approval}, but this runner cannot ask for it`);
    }
    const graceMs = this.options.graceMs ?? DEFAULT_GRACE_MS;
    const ws = await openWorkspace(ctx.worktree);
    // The agent gets `session/cancel` on abort and is killed only if it does not stop in time.
    const kill = new AbortController();
    const starter = ctx.starter ?? plainStarter(ctx.env, ctx.anthropic);
    // The approval policy holds the agent's terminals and writes, asked about or not.
    const held = new HeldCalls(ctx, ws);
    const terminals = new Terminals(ws, starter, kill.signal, ctx.emit, graceMs, (file, args) => held.command(file, args));
    const updates = new UpdateMapper(ctx.emit, this.options.messageIdleMs);
    const started = startAgent(agent, ctx, starter, kill.signal, graceMs);

    const app = client({ name: "agentboard" })
      .onRequest("session/request_permission", ({ params }) => {
        const call = updates.callFacts(params.toolCall);
        updates.announce(params.toolCall.toolCallId);
        return answerPermission(params, { policy: agent.permissions, call, ctx, held, emit: ctx.emit });
      })
      .onRequest("fs/read_text_file", async ({ params }) => ({ content: await readTextFile(ws, params.path, params.line, params.limit) }))
      .onRequest("fs/write_text_file", async ({ params }) => {
        await writeTextFile(ws, params.path, params.content, (abs) => held.write(params.path, abs, params.content));
        return {};
      })
      .onRequest("terminal/create", async ({ params }) => ({ terminalId: await terminals.create(params) }))
      .onRequest("terminal/output", ({ params }) => terminals.output(params.terminalId))
      .onRequest("terminal/wait_for_exit", ({ params }) => terminals.waitForExit(params.terminalId))
      .onRequest("terminal/kill", async ({ params }) => {
        await terminals.kill(params.terminalId);
        return {};
      })
      .onRequest("terminal/release", async ({ params }) => {
        await terminals.release(params.terminalId);
        return {};
      });

    let response: PromptResponse | null = null;
    let failure: unknown = null;
    const onAbort = () => setTimeout(() => kill.abort(), graceMs).unref();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      response = await app.connectWith(started.stream, async (acp) => {
        await acp.request("initialize", {
          protocolVersion: PROTOCOL_VERSION,
          clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: true },
          clientInfo: { name: "agentboard", version: "1" },
        });
        const session = await acp.buildSession(ws.given).start();
        const cancel = () => void acp.notify("session/cancel", { sessionId: session.sessionId }).catch(() => undefined);
        if (ctx.signal.aborted) cancel();
        else ctx.signal.addEventListener("abort", cancel, { once: true });
        // A follow-up: a new session, seeded with the thread's summary.
        if (ctx.resume) ctx.emit({ type: "agent.context", payload: { mode: "seeded", reason: "new_session", messages: 1 } });
        const prompt = ctx.resume ? `${ctx.resume.seed}\n\n## What to do now\n${ctx.prompt}` : ctx.prompt;
        void session.prompt(prompt).catch(() => undefined);
        for (;;) {
          const next = await session.nextUpdate();
          if (next.kind === "stop") return next.response;
          updates.apply(next.update);
        }
      });
    } catch (err) {
      failure = err;
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      updates.finish();
      kill.abort();
      await Promise.all([terminals.closeAll(), started.exited]);
    }

    if (ctx.signal.aborted) throw abortError(ctx.signal);
    if (!response) {
      const tail = started.stderr.last(2_000).trim();
      const why = failure instanceof Error ? failure.message : String(failure);
      throw new EngineError("engine_error", `the agent ${agent.name} failed: ${why}${tail ? `; its stderr:\n${tail}` : ""}`);
    }
    if (response.stopReason === "max_turn_requests") throw new EngineError("max_turns", `the agent ${agent.name} stopped: too many turns`);
    if (response.stopReason !== "end_turn") throw new EngineError("engine_error", `the agent ${agent.name} stopped: ${response.stopReason}`);
    return {
      summary: updates.lastMessage || `${agent.name} finished`,
      tokensIn: 0,
      tokensOut: 0,
      costUsd: updates.costUsd,
      toolCalls: updates.toolCalls,
      turns: 1,
    };
  }
}
