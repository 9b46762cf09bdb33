import type { IncomingMessage, ServerResponse } from "node:http";
import { callTRPCProcedure, isTrackedEnvelope, type TRPCError } from "@trpc/server";
import { appRouter } from "../root.js";
import { isAsyncIterable, type Context } from "../trpc.js";
import { restError } from "./errors.js";
import { toJson } from "./json.js";

const KEEPALIVE_MS = 10_000;

/**
 * A run's events as plain server-sent events, for any HTTP client: `id:` is the event's
 * sequence number, `event:` its type, `data:` the event as JSON. It follows the run with the
 * `run.onEvents` subscription (backfill, then live, resumed after `Last-Event-ID`), so what
 * an SSE client sees is exactly what a tRPC client sees.
 */
export async function serveEventStream(opts: {
  req: IncomingMessage;
  res: ServerResponse;
  ctx: Context;
  input: Record<string, unknown>;
  signal: AbortSignal;
  onError?: (error: TRPCError, path: string) => void;
}): Promise<void> {
  const { req, res, ctx, signal } = opts;
  const header = req.headers["last-event-id"];
  const resumeFrom = (Array.isArray(header) ? header[0] : header) ?? opts.input.afterSeq;
  const input = { runId: opts.input.runId, lastEventId: resumeFrom ?? null };

  // Authorization and input errors answer with a status and the JSON error, not a stream:
  // the subscription only checks them once it is iterated, so a one-event read goes first.
  await callTRPCProcedure({
    router: appRouter,
    path: "run.events",
    type: "query",
    ctx,
    signal,
    batchIndex: 0,
    getRawInput: async () => ({ runId: input.runId, limit: 1 }),
  });
  const result = await callTRPCProcedure({
    router: appRouter,
    path: "run.onEvents",
    type: "subscription",
    ctx,
    signal,
    batchIndex: 0,
    getRawInput: async () => input,
  });
  if (!isAsyncIterable(result)) throw new Error("run.onEvents did not return an async iterable");

  const send = (text: string) => {
    if (!res.destroyed && !res.writableEnded) res.write(text);
  };
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
    connection: "keep-alive",
  });
  send(": connected\n\n");
  const iterator = result[Symbol.asyncIterator]();
  const keepalive = setInterval(() => send(": keep-alive\n\n"), KEEPALIVE_MS);
  const stopped = new Promise<IteratorResult<unknown>>((resolve) =>
    signal.addEventListener("abort", () => resolve({ done: true, value: undefined }), { once: true }),
  );
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), stopped]);
      if (next.done) break;
      if (!isTrackedEnvelope(next.value)) continue;
      const [id, event] = next.value as unknown as [string, { type: string }];
      send(`id: ${id}\nevent: ${event.type}\ndata: ${toJson(event)}\n\n`);
    }
  } catch (cause) {
    const e = restError(cause, { ctx, input, path: "run.onEvents", type: "subscription" });
    opts.onError?.(e.error, "run.onEvents");
    send(`event: error\ndata: ${toJson(e.body)}\n\n`);
  } finally {
    clearInterval(keepalive);
    void iterator.return?.(undefined)?.catch(() => undefined);
    if (!res.writableEnded) res.end();
  }
}
