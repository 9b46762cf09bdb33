import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { startMessagesServer, type MessagesServer, type Turn } from "./messages-server.js";

const KEY = "sk-test-key";
const tools: Anthropic.Tool[] = [
  {
    name: "read_file",
    description: "Read a file",
    input_schema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
  },
];

let server: MessagesServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function client(s: MessagesServer, apiKey = KEY): Anthropic {
  return new Anthropic({ apiKey, baseURL: s.url, maxRetries: 0 });
}

describe("messages server", () => {
  it("answers a non-streaming request with text, usage and a request id", async () => {
    server = await startMessagesServer({
      apiKey: KEY,
      script: [{ text: "Hello there", usage: { input_tokens: 12, output_tokens: 3 } }],
    });
    const res = await client(server)
      .messages.create({ model: "claude-sonnet-4-6", max_tokens: 100, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    expect(res.data.content).toEqual([{ type: "text", text: "Hello there", citations: null }]);
    expect(res.data.stop_reason).toBe("end_turn");
    expect(res.data.usage.input_tokens).toBe(12);
    expect(res.data.usage.output_tokens).toBe(3);
    expect(res.data.model).toBe("claude-sonnet-4-6");
    expect(res.request_id).toMatch(/^req_/);
    expect(res.request_id).toBe(server.requests[0]?.requestId);
    expect(server.requests[0]?.stream).toBe(false);
  });

  it("streams text and tool_use blocks that the SDK reassembles", async () => {
    server = await startMessagesServer({
      apiKey: KEY,
      chunkSize: 3,
      script: [
        {
          content: [
            { type: "text", text: "Let me read the file first." },
            { type: "tool_use", id: "toolu_1", name: "read_file", input: { path: "src/a.ts", nested: { n: [1, 2] } } },
          ],
          usage: { input_tokens: 40, output_tokens: 25 },
        },
      ],
    });
    const stream = client(server).messages.stream({
      model: "claude-opus-4-6",
      max_tokens: 100,
      tools,
      messages: [{ role: "user", content: "read a.ts" }],
    });
    const texts: string[] = [];
    const jsonParts: string[] = [];
    const rawTypes: string[] = [];
    stream.on("text", (delta) => texts.push(delta));
    stream.on("inputJson", (partial) => jsonParts.push(partial));
    stream.on("streamEvent", (ev) => rawTypes.push(ev.type));
    const msg = await stream.finalMessage();

    expect(texts.length).toBeGreaterThan(1);
    expect(texts.join("")).toBe("Let me read the file first.");
    expect(jsonParts.join("")).toBe(JSON.stringify({ path: "src/a.ts", nested: { n: [1, 2] } }));
    expect(msg.stop_reason).toBe("tool_use");
    expect(msg.usage).toMatchObject({ input_tokens: 40, output_tokens: 25 });
    expect(msg.content[1]).toMatchObject({ type: "tool_use", id: "toolu_1", name: "read_file", input: { path: "src/a.ts", nested: { n: [1, 2] } } });
    expect(rawTypes[0]).toBe("message_start");
    expect(rawTypes).toContain("content_block_start");
    expect(rawTypes).toContain("content_block_delta");
    expect(rawTypes).toContain("content_block_stop");
    expect(rawTypes.at(-2)).toBe("message_delta");
    expect(rawTypes.at(-1)).toBe("message_stop");
    expect(server.requests[0]?.stream).toBe(true);
  });

  it("streams through create({ stream: true }) with a max_tokens stop", async () => {
    server = await startMessagesServer({ script: [{ text: "truncated answ", stopReason: "max_tokens", usage: { output_tokens: 5 } }] });
    const stream = await client(server).messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 5,
      stream: true,
      messages: [{ role: "user", content: "write an essay" }],
    });
    let text = "";
    let stop: string | null = null;
    let outTokens = 0;
    for await (const ev of stream) {
      if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
      if (ev.type === "message_delta") {
        stop = ev.delta.stop_reason;
        outTokens = ev.usage.output_tokens;
      }
    }
    expect(text).toBe("truncated answ");
    expect(stop).toBe("max_tokens");
    expect(outTokens).toBe(5);
  });

  it("records tool_result blocks and lets a script function react to them", async () => {
    const reactive = (req: { body: { messages: Array<{ content: unknown }> } }): Turn => {
      const last = req.body.messages.at(-1);
      const blocks = Array.isArray(last?.content) ? (last.content as Array<{ type: string; content?: unknown }>) : [];
      const result = blocks.find((b) => b.type === "tool_result");
      return { text: `the file says: ${String(result?.content)}` };
    };
    server = await startMessagesServer({
      apiKey: KEY,
      script: [{ content: [{ type: "tool_use", id: "toolu_abc", name: "read_file", input: { path: "x" } }] }, reactive],
    });
    const c = client(server);
    const first = await c.messages.create({ model: "m", max_tokens: 50, tools, messages: [{ role: "user", content: "go" }] });
    const second = await c.messages.create({
      model: "m",
      max_tokens: 50,
      tools,
      messages: [
        { role: "user", content: "go" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_abc", content: "42" }] },
      ],
    });
    expect(second.content[0]).toMatchObject({ type: "text", text: "the file says: 42" });
    const seen = server.requests[1]?.body.messages[2]?.content;
    expect(seen).toEqual([{ type: "tool_result", tool_use_id: "toolu_abc", content: "42" }]);
    expect(server.requests[1]?.body.tools?.[0]?.name).toBe("read_file");
  });

  it("answers 401 in Anthropic's error shape for a wrong key", async () => {
    server = await startMessagesServer({ apiKey: KEY, script: [{ text: "never" }] });
    const err = await client(server, "sk-wrong")
      .messages.create({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    const apiErr = err as InstanceType<typeof Anthropic.AuthenticationError>;
    expect(apiErr.status).toBe(401);
    expect(apiErr.error).toMatchObject({ type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } });
    expect(apiErr.requestID).toMatch(/^req_/);
    expect(server.requests).toHaveLength(0);
    expect(server.rejected[0]?.status).toBe(401);
  });

  it("answers 400 for malformed requests and unanswered tool_use blocks", async () => {
    server = await startMessagesServer({ script: [] });
    const c = client(server);
    const noMaxTokens = await c.messages
      // @ts-expect-error max_tokens is deliberately missing
      .create({ model: "m", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(noMaxTokens).toBeInstanceOf(Anthropic.BadRequestError);
    expect((noMaxTokens as Error).message).toContain("max_tokens");

    const unpaired = await c.messages
      .create({
        model: "m",
        max_tokens: 10,
        messages: [
          { role: "user", content: "go" },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_x", name: "read_file", input: {} }] },
          { role: "user", content: "no results here" },
        ],
      })
      .catch((e: unknown) => e);
    expect(unpaired).toBeInstanceOf(Anthropic.BadRequestError);
    expect((unpaired as Error).message).toContain("tool_result");

    const res = await fetch(`${server.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });

  it("surfaces scripted API errors and mid-stream errors", async () => {
    server = await startMessagesServer({
      script: [
        { error: { status: 529, type: "overloaded_error", message: "Overloaded" } },
        { text: "partial answer that breaks", streamError: { type: "overloaded_error", message: "Overloaded", afterEvents: 3 } },
      ],
    });
    const c = client(server);
    const first = await c.messages.create({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Anthropic.APIError);
    expect((first as InstanceType<typeof Anthropic.APIError>).status).toBe(529);

    const stream = c.messages.stream({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    await expect(stream.finalMessage()).rejects.toThrow(/Overloaded/);
  });

  it("lets the client abort a slow response", async () => {
    server = await startMessagesServer({ script: [{ text: "slow", delayMs: 30_000 }] });
    const controller = new AbortController();
    const started = Date.now();
    const pending = client(server).messages.create({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }, { signal: controller.signal });
    // Abort once the server has the request, which is the state a cancel really meets.
    await server.waitForRequest(1);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("reports an exhausted script as a non-retryable 500", async () => {
    server = await startMessagesServer({ script: [] });
    const err = await new Anthropic({ apiKey: "k", baseURL: server.url, maxRetries: 2 }).messages
      .create({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as Error).message).toContain("exhausted");
    expect(server.requests).toHaveLength(1);
  });
});
