/**
 * A local stand-in for the Anthropic Messages API (`POST /v1/messages`).
 *
 * Build machines cannot reach the real API, so engines are tested against this server
 * through the official SDK. It replies from a script of turns, speaks both the JSON and
 * the SSE form of the API, and records every request so tests can check what the "model"
 * was shown (tool results, system prompt, tools).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

// ---------------------------------------------------------------------------------------
// Request validation. Loose objects: the real API accepts fields we do not model
// (cache_control, citations…), and a test must see the body exactly as the SDK sent it.
// ---------------------------------------------------------------------------------------

const textBlock = z.looseObject({ type: z.literal("text"), text: z.string() });
const imageBlock = z.looseObject({ type: z.literal("image"), source: z.looseObject({ type: z.string() }) });
const documentBlock = z.looseObject({ type: z.literal("document"), source: z.looseObject({ type: z.string() }) });
const toolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
const toolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.union([textBlock, imageBlock, documentBlock]))]).optional(),
  is_error: z.boolean().optional(),
});
const thinkingBlock = z.looseObject({ type: z.literal("thinking"), thinking: z.string(), signature: z.string() });
const redactedThinkingBlock = z.looseObject({ type: z.literal("redacted_thinking"), data: z.string() });

const contentBlock = z.discriminatedUnion("type", [textBlock, imageBlock, documentBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock]);

const messageParam = z.looseObject({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(contentBlock)]),
});

const toolParam = z
  .looseObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, "tool name must match ^[a-zA-Z0-9_-]{1,128}$"),
    type: z.string().optional(),
    description: z.string().optional(),
    input_schema: z.looseObject({ type: z.literal("object") }).optional(),
  })
  .refine((t) => (t.type !== undefined && t.type !== "custom") || t.input_schema !== undefined, {
    message: "custom tools need an input_schema",
    path: ["input_schema"],
  });

const messagesRequest = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(messageParam).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z.array(toolParam).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  stop_sequences: z.array(z.string()).optional(),
  metadata: z.looseObject({}).optional(),
});

export type MessagesRequestBody = z.infer<typeof messagesRequest>;
export type MessageParamBody = z.infer<typeof messageParam>;
export type ContentBlockBody = z.infer<typeof contentBlock>;
export type ToolResultBlockBody = z.infer<typeof toolResultBlock>;

// ---------------------------------------------------------------------------------------
// Script
// ---------------------------------------------------------------------------------------

export type StopReason = "end_turn" | "tool_use" | "max_tokens" | "stop_sequence" | "pause_turn" | "refusal";

export type ScriptBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; name: string; input: Record<string, unknown>; id?: string }
  | { type: "thinking"; thinking: string; signature?: string };

export interface Turn {
  /** Shorthand for a single leading text block. */
  text?: string;
  content?: ScriptBlock[];
  /** Defaults to `tool_use` when the turn has a tool_use block, else `end_turn`. */
  stopReason?: StopReason;
  /** Defaults to a rough estimate (4 characters a token). */
  usage?: { input_tokens?: number; output_tokens?: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number };
  /** Wait this long before the response starts (status line included), so tests can cancel. */
  delayMs?: number;
  /** Streaming only: wait this long between SSE events, a slow model mid-answer. */
  chunkDelayMs?: number;
  /** Answer with an API error instead of a message. */
  error?: { status: number; type: string; message: string };
  /** Streaming only: after `afterEvents` SSE events, send an `error` event and end the stream. */
  streamError?: { type: string; message: string; afterEvents?: number };
}

export interface RecordedRequest {
  /** The request id this server answered with (`request-id` header). */
  requestId: string;
  /** 0-based position among the requests that reached the script. */
  index: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: MessagesRequestBody;
  stream: boolean;
}

export interface RejectedRequest {
  requestId: string;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  status: number;
  errorType: string;
  message: string;
}

export type ScriptFn = (request: RecordedRequest) => Turn | Promise<Turn>;

export interface MessagesServerOptions {
  /** When set, requests must carry it as `x-api-key` (or `Authorization: Bearer`). */
  apiKey?: string;
  /** Turns answered in order (an entry may be a function of the request), or one function. */
  script: Array<Turn | ScriptFn> | ScriptFn;
  /** Characters per text_delta / input_json_delta chunk when streaming. */
  chunkSize?: number;
}

export interface MessagesServer {
  /** Base URL for the SDK's `baseURL` (no trailing slash, no `/v1`). */
  url: string;
  /** Requests that passed auth and validation, in arrival order. */
  requests: RecordedRequest[];
  /** Requests answered with an error before reaching the script. */
  rejected: RejectedRequest[];
  /** Resolves with the n-th accepted request (1-based) once it has arrived. */
  waitForRequest(n: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
function randomId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

type OutBlock =
  | { type: "text"; text: string; citations: null }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | { type: "thinking"; thinking: string; signature: string };

interface OutMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: OutBlock[];
  stop_reason: StopReason;
  stop_sequence: null;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_creation_input_tokens: number;
    cache_read_input_tokens: number;
    service_tier: "standard";
  };
}

function buildMessage(turn: Turn, body: MessagesRequestBody): OutMessage {
  const blocks: OutBlock[] = [];
  if (turn.text !== undefined) blocks.push({ type: "text", text: turn.text, citations: null });
  for (const b of turn.content ?? []) {
    if (b.type === "text") blocks.push({ type: "text", text: b.text, citations: null });
    else if (b.type === "thinking") blocks.push({ type: "thinking", thinking: b.thinking, signature: b.signature ?? randomId("sig_") });
    else blocks.push({ type: "tool_use", id: b.id ?? randomId("toolu_"), name: b.name, input: b.input });
  }
  const hasToolUse = blocks.some((b) => b.type === "tool_use");
  const outputText = blocks.map((b) => (b.type === "text" ? b.text : b.type === "thinking" ? b.thinking : JSON.stringify(b.input) + b.name)).join("");
  const inputText = JSON.stringify([body.system ?? "", body.tools ?? [], body.messages]);
  return {
    id: randomId("msg_"),
    type: "message",
    role: "assistant",
    model: body.model,
    content: blocks,
    stop_reason: turn.stopReason ?? (hasToolUse ? "tool_use" : "end_turn"),
    stop_sequence: null,
    usage: {
      input_tokens: turn.usage?.input_tokens ?? estimateTokens(inputText),
      output_tokens: turn.usage?.output_tokens ?? estimateTokens(outputText),
      cache_creation_input_tokens: turn.usage?.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: turn.usage?.cache_read_input_tokens ?? 0,
      service_tier: "standard",
    },
  };
}

function chunks(text: string, size: number): string[] {
  if (text.length === 0) return [];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The SSE events of one message, in the order the real API sends them. */
function sseEvents(message: OutMessage, chunkSize: number): Array<{ event: string; data: unknown }> {
  const events: Array<{ event: string; data: unknown }> = [];
  events.push({
    event: "message_start",
    data: {
      type: "message_start",
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...message.usage, output_tokens: 1 },
      },
    },
  });
  events.push({ event: "ping", data: { type: "ping" } });
  message.content.forEach((block, index) => {
    if (block.type === "text") {
      events.push({ event: "content_block_start", data: { type: "content_block_start", index, content_block: { type: "text", text: "" } } });
      for (const piece of chunks(block.text, chunkSize)) {
        events.push({ event: "content_block_delta", data: { type: "content_block_delta", index, delta: { type: "text_delta", text: piece } } });
      }
    } else if (block.type === "thinking") {
      events.push({
        event: "content_block_start",
        data: { type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } },
      });
      for (const piece of chunks(block.thinking, chunkSize)) {
        events.push({ event: "content_block_delta", data: { type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: piece } } });
      }
      events.push({
        event: "content_block_delta",
        data: { type: "content_block_delta", index, delta: { type: "signature_delta", signature: block.signature } },
      });
    } else {
      events.push({
        event: "content_block_start",
        data: { type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } },
      });
      // The real API opens every tool input with an empty partial_json.
      events.push({ event: "content_block_delta", data: { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: "" } } });
      for (const piece of chunks(JSON.stringify(block.input), chunkSize)) {
        events.push({ event: "content_block_delta", data: { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } } });
      }
    }
    events.push({ event: "content_block_stop", data: { type: "content_block_stop", index } });
  });
  events.push({
    event: "message_delta",
    data: {
      type: "message_delta",
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: {
        input_tokens: message.usage.input_tokens,
        output_tokens: message.usage.output_tokens,
        cache_creation_input_tokens: message.usage.cache_creation_input_tokens,
        cache_read_input_tokens: message.usage.cache_read_input_tokens,
      },
    },
  });
  events.push({ event: "message_stop", data: { type: "message_stop" } });
  return events;
}

/**
 * The real API refuses a conversation whose tool_use blocks are not answered by
 * tool_result blocks in the very next user message (and results that answer nothing).
 * Checking it here catches engine bugs that would only show up against the real API.
 */
function checkToolPairing(messages: MessagesRequestBody["messages"]): string | null {
  for (let i = 0; i < messages.length; i++) {
    const msg = messages[i];
    if (!msg || typeof msg.content === "string") continue;
    if (msg.role === "assistant") {
      const ids = msg.content.flatMap((b) => (b.type === "tool_use" ? [b.id] : []));
      if (ids.length === 0) continue;
      const next = messages[i + 1];
      // A trailing assistant message is a prefill; nothing to answer yet.
      if (!next) continue;
      const answered = new Set(
        next.role === "user" && typeof next.content !== "string" ? next.content.flatMap((b) => (b.type === "tool_result" ? [b.tool_use_id] : [])) : [],
      );
      const missing = ids.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        return (
          `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately ` +
          `after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding ` +
          `\`tool_result\` block in the next message.`
        );
      }
    } else {
      const results = msg.content.flatMap((b) => (b.type === "tool_result" ? [b.tool_use_id] : []));
      if (results.length === 0) continue;
      const prev = i > 0 ? messages[i - 1] : undefined;
      const asked = new Set(
        prev && prev.role === "assistant" && typeof prev.content !== "string" ? prev.content.flatMap((b) => (b.type === "tool_use" ? [b.id] : [])) : [],
      );
      const orphan = results.find((id) => !asked.has(id));
      if (orphan !== undefined) {
        return (
          `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ` +
          `${orphan}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the ` +
          `previous message.`
        );
      }
    }
  }
  return null;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

/** Resolves after `ms`, or early (false) when the client went away. */
function wait(ms: number, gone: AbortSignal): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!gone.aborted);
  return new Promise((resolve) => {
    if (gone.aborted) return resolve(false);
    const timer = setTimeout(() => {
      gone.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    gone.addEventListener("abort", onAbort, { once: true });
  });
}

function sendError(res: ServerResponse, requestId: string, status: number, type: string, message: string, retry?: boolean): void {
  const headers: Record<string, string> = { "content-type": "application/json", "request-id": requestId };
  // The SDK retries 5xx/429 by default; a scripted error should surface exactly once
  // unless the test asks for retry behaviour.
  if (retry !== undefined) headers["x-should-retry"] = String(retry);
  res.writeHead(status, headers);
  res.end(JSON.stringify({ type: "error", error: { type, message }, request_id: requestId }));
}

function checkAuth(headers: IncomingHttpHeaders, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  const xKey = headers["x-api-key"];
  const auth = headers.authorization;
  const bearer = typeof auth === "string" && auth.startsWith("Bearer ") ? auth.slice(7) : undefined;
  if (xKey === undefined && bearer === undefined) {
    throw new HttpError(401, "authentication_error", "x-api-key header is required");
  }
  if (xKey !== apiKey && bearer !== apiKey) {
    throw new HttpError(401, "authentication_error", "invalid x-api-key");
  }
}

function parseBody(raw: string): MessagesRequestBody {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new HttpError(400, "invalid_request_error", "request body is not valid JSON");
  }
  const parsed = messagesRequest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join(".") : "";
    throw new HttpError(400, "invalid_request_error", `${where ? `${where}: ` : ""}${issue?.message ?? "invalid request"}`);
  }
  const pairing = checkToolPairing(parsed.data.messages);
  if (pairing) throw new HttpError(400, "invalid_request_error", pairing);
  return parsed.data;
}

export async function startMessagesServer(options: MessagesServerOptions): Promise<MessagesServer> {
  const requests: RecordedRequest[] = [];
  const rejected: RejectedRequest[] = [];
  const chunkSize = Math.max(1, options.chunkSize ?? 16);
  let position = 0;
  const waiters: Array<{ n: number; resolve: (r: RecordedRequest) => void }> = [];

  async function nextTurn(request: RecordedRequest): Promise<Turn> {
    const script = options.script;
    if (typeof script === "function") return script(request);
    const entry = script[position++];
    if (entry === undefined) {
      throw new HttpError(500, "api_error", `messages server script exhausted after ${script.length} turns (request #${request.index + 1})`);
    }
    return typeof entry === "function" ? entry(request) : entry;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, gone: AbortSignal): Promise<void> {
    const requestId = randomId("req_");
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    // Claude Code probes the base URL for reachability before its first request.
    if (path === "/" && (method === "HEAD" || method === "GET")) {
      res.writeHead(200, { "content-type": "application/json", "request-id": requestId });
      res.end(method === "GET" ? "{}" : undefined);
      return;
    }
    let body: MessagesRequestBody;
    try {
      if (path !== "/v1/messages") throw new HttpError(404, "not_found_error", `Not found: ${method} ${path}`);
      if (method !== "POST") throw new HttpError(405, "invalid_request_error", `Method ${method} not allowed`);
      checkAuth(req.headers, options.apiKey);
      if (req.headers["anthropic-version"] === undefined) {
        throw new HttpError(400, "invalid_request_error", "anthropic-version: header is required");
      }
      body = parseBody(raw);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      rejected.push({ requestId, method, path, headers: req.headers, raw, status: err.status, errorType: err.errorType, message: err.message });
      sendError(res, requestId, err.status, err.errorType, err.message);
      return;
    }

    const stream = body.stream === true;
    const recorded: RecordedRequest = { requestId, index: requests.length, path, headers: req.headers, body, stream };
    requests.push(recorded);
    for (const w of waiters.splice(0)) {
      const r = requests[w.n - 1];
      if (r) w.resolve(r);
      else waiters.push(w);
    }

    let turn: Turn;
    try {
      turn = await nextTurn(recorded);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, "api_error", `script failed: ${String(err)}`);
      sendError(res, requestId, e.status, e.errorType, e.message, false);
      return;
    }

    if (!(await wait(turn.delayMs ?? 0, gone))) return;

    if (turn.error) {
      sendError(res, requestId, turn.error.status, turn.error.type, turn.error.message, false);
      return;
    }

    const message = buildMessage(turn, body);
    if (!stream) {
      res.writeHead(200, { "content-type": "application/json", "request-id": requestId });
      res.end(JSON.stringify(message));
      return;
    }

    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "request-id": requestId,
    });
    const events = sseEvents(message, chunkSize);
    let sent = 0;
    for (const ev of events) {
      if (turn.streamError && sent === (turn.streamError.afterEvents ?? 1)) {
        res.write(`event: error\ndata: ${JSON.stringify({ type: "error", error: { type: turn.streamError.type, message: turn.streamError.message } })}\n\n`);
        res.end();
        return;
      }
      if (sent > 0 && !(await wait(turn.chunkDelayMs ?? 0, gone))) return;
      if (gone.aborted) return;
      res.write(`event: ${ev.event}\ndata: ${JSON.stringify(ev.data)}\n\n`);
      sent++;
    }
    res.end();
  }

  const server = createServer((req, res) => {
    const controller = new AbortController();
    // "close" on the response fires both after a normal end and when the client hangs
    // up; only the latter matters, and then writableFinished is still false.
    res.on("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    handle(req, res, controller.signal).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, randomId("req_"), 500, "api_error", `messages server failure: ${String(err)}`, false);
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    rejected,
    waitForRequest: (n) =>
      new Promise<RecordedRequest>((resolve) => {
        const r = requests[n - 1];
        if (r) resolve(r);
        else waiters.push({ n, resolve });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
