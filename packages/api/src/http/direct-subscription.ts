import type { IncomingMessage } from "node:http";
import { callTRPCProcedure, getTRPCErrorFromUnknown, getTRPCErrorShape, isTrackedEnvelope, TRPCError } from "@trpc/server";
import { LRUCache } from "lru-cache";
import { rawPayload } from "@agentboard/db";
import { whenWritable } from "./backpressure.js";
import { parseJson, type DirectCall } from "./direct-mutation.js";
import { appRouter } from "../root.js";
import { type Context, isAsyncIterable, rootConfig as config, SSE_OPTIONS, transformer } from "../trpc.js";

/**
 * A subscription over server-sent events (`GET /api/trpc/<path>?input=…`, what
 * httpSubscriptionLink sends), served with tRPC's public building blocks and written
 * straight to the socket: the frames ready in one turn of the event loop (a page of a
 * board's events, an append's events) go in one write. tRPC's own producer passes every event
 * through several async-generator layers, a ping timer race, a transform stream and a
 * text-encoder stream; on a live board with many followers that was most of the server's
 * CPU. The frames are tRPC's, byte for byte (a test compares both paths): `connected`
 * first, `id:`/`data:` per tracked event, `ping` when idle, `return` at the end,
 * `serialized-error` on failure.
 *
 * Backpressure: the next event is taken from the subscription only once the socket has
 * room (`drain`), so a follower that reads slowly holds one frame here, and its producer
 * (a database cursor, a page of events) simply waits; pings are skipped meanwhile. One that
 * stops reading is dropped by the handler's stall watch and resumes by its last event id.
 */

/** Frames gathered into one write, at most (characters). */
const WRITE_CHARS = 64 * 1024;

const DEFAULT_PING_MS = SSE_OPTIONS.ping.enabled ? SSE_OPTIONS.ping.intervalMs : null;

const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
  connection: "keep-alive",
  vary: "trpc-accept, accept",
};

/** The subscriptions served here: every one the API has (a run's events, a board's changes). */
export const DIRECT_SUBSCRIPTIONS: ReadonlySet<string> = new Set(["run.onEvents", "board.onChanges"]);

export interface SubscriptionCall {
  path: string;
  search: URLSearchParams;
}

/** The subscription this request opens, or null to leave the request to tRPC. */
export function subscriptionCall(req: IncomingMessage, basePath: string): SubscriptionCall | null {
  const url = req.url ?? "";
  if (req.method !== "GET" || !url.startsWith(basePath)) return null;
  const q = url.indexOf("?");
  const path = url.slice(basePath.length, q === -1 ? undefined : q);
  if (!DIRECT_SUBSCRIPTIONS.has(path)) return null;
  const search = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
  if (search.get("batch") === "1") return null;
  return { path, search };
}

function frame(fields: { event?: string; data?: string; id?: string }): string {
  let out = "";
  if (fields.event !== undefined) out += `event: ${fields.event}\n`;
  if (fields.data !== undefined) out += `data: ${fields.data}\n`;
  if (fields.id !== undefined) out += `id: ${fields.id}\n`;
  return `${out}\n\n`;
}

/**
 * The iterator's next value, or done as soon as `signal` aborts. One abort listener serves
 * the whole stream, through the slot of the read in progress: a listener added and removed
 * per event lives as long as the follower waits for that event (seconds, on a quiet run),
 * so each one ended up in the old generation; and racing every `next()` against one
 * long-lived "stopped" promise would leave a reaction on it per event for as long as the
 * stream lives (about 400 bytes each, hundreds of megabytes over a day of a busy board).
 */
function nextOrStop(it: AsyncIterator<unknown>, signal: AbortSignal): () => Promise<IteratorResult<unknown>> {
  let stopRead: (() => void) | null = null;
  signal.addEventListener("abort", () => stopRead?.(), { once: true });
  return () =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return resolve({ done: true, value: undefined });
      stopRead = () => resolve({ done: true, value: undefined });
      it.next().then(
        (next) => {
          stopRead = null;
          resolve(next);
        },
        (err: unknown) => {
          stopRead = null;
          reject(err);
        },
      );
    });
}

const serialize = (v: unknown) => JSON.stringify(transformer.output.serialize(v));

const PAYLOAD_KEY = '"payload":null';

/**
 * A tracked value serialized as tRPC's transformer would, except that a run event read from
 * SQLite sends its payload's stored JSON text as it is (rawPayload), unparsed: the
 * rest of the event goes through the transformer with the payload as null, and the text
 * takes the null's place. (The key can only appear once unescaped: every string value's
 * quotes are escaped.) Stored payloads are JSON, which the transformer passes through as
 * is, so the client reads the same value either way.
 */
function serializeTracked(data: object): string {
  const raw = rawPayload(data);
  if (raw === undefined) return serialize(data);
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(data)) rest[key] = key === "payload" ? null : (data as Record<string, unknown>)[key];
  const text = serialize(rest);
  const at = text.indexOf(PAYLOAD_KEY);
  return `${text.slice(0, at)}"payload":${raw}${text.slice(at + PAYLOAD_KEY.length)}`;
}

/**
 * Each tracked event framed once for all its followers: the followers of a run, or of a
 * board, get the very same event objects from one shared read (services/streams.ts) at
 * about the same moment, and events are never changed once read, so every follower is
 * written the same string (no text, and no frame around it, per follower). Only the latest
 * frames are kept, bounded in entries and characters, and a large one is not kept at all:
 * it would push out hundreds of the small ones live followers share, and such an event is
 * mostly read by one follower catching up, which frames its own.
 */
const FRAME_CACHE_CHARS = 4 * 1024 * 1024;
const FRAME_CACHE_ENTRY_CHARS = 16 * 1024;
const trackedFrames = new LRUCache<object, { id: string; text: string }>({
  max: 4_096,
  maxSize: FRAME_CACHE_CHARS,
  maxEntrySize: FRAME_CACHE_ENTRY_CHARS,
  sizeCalculation: (f) => f.text.length,
});

function trackedFrame(id: string, data: unknown): string {
  if (typeof data !== "object" || data === null) return frame({ data: serialize(data), id });
  const kept = trackedFrames.get(data);
  if (kept?.id === id) return kept.text;
  const text = frame({ data: serializeTracked(data), id });
  trackedFrames.set(data, { id, text });
  return text;
}

export async function serveSubscription(opts: DirectCall & { call: SubscriptionCall; pingMs?: number }): Promise<void> {
  const { req, res, call } = opts;
  const pingMs = opts.pingMs ?? DEFAULT_PING_MS;
  const { path, search } = call;
  const abort = new AbortController();
  res.once("close", () => abort.abort());

  let lastWrite = Date.now();
  // Frames wait here for the end of this turn, or until they fill a write: the backpressure
  // check below sees the socket once they are written, so at most WRITE_CHARS wait unseen.
  let pending = "";
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    const text = pending;
    pending = "";
    if (text !== "" && !res.destroyed && !res.writableEnded) res.write(text);
  };
  const send = (text: string) => {
    if (res.destroyed || res.writableEnded) return;
    lastWrite = Date.now();
    pending += text;
    if (pending.length >= WRITE_CHARS) flush();
    else if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  };
  res.writeHead(200, SSE_HEADERS);
  send(frame({ event: "connected", data: JSON.stringify(SSE_OPTIONS.client) }));
  const ping = pingMs
    ? setInterval(
        () => {
          if (Date.now() - lastWrite >= pingMs && !res.writableNeedDrain) send(frame({ event: "ping", data: "" }));
        },
        Math.max(1, Math.min(1_000, Math.floor(pingMs / 2))),
      )
    : null;

  const header = req.headers["last-event-id"];
  const requested = (Array.isArray(header) ? header[0] : header) ?? search.get("lastEventId") ?? search.get("Last-Event-Id");
  let lastEventId = requested && !/[\0\n\r]/.test(requested) ? requested : null;
  let ctx: Context | undefined;
  let input: unknown;
  let iterator: AsyncIterator<unknown> | undefined;
  try {
    ctx = await opts.createContext();
    const getRawInput = async () => {
      const raw = search.get("input");
      let value: unknown = raw ? transformer.input.deserialize(parseJson(raw)) : undefined;
      if (requested) value = typeof value === "object" && value !== null ? { ...value, lastEventId: requested } : (value ?? { lastEventId: requested });
      return (input = value);
    };
    const result = await callTRPCProcedure({ router: appRouter, path, type: "subscription", ctx, signal: abort.signal, batchIndex: 0, getRawInput });
    if (!isAsyncIterable(result)) {
      throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `Subscription ${path} did not return an observable or a AsyncGenerator` });
    }
    const it = result[Symbol.asyncIterator]();
    iterator = it;
    const next = nextOrStop(it, abort.signal);
    for (;;) {
      const writable = whenWritable(res);
      if (writable) await writable;
      if (abort.signal.aborted) break;
      const read = await next();
      if (read.done) break;
      const value = read.value;
      if (isTrackedEnvelope(value)) {
        lastEventId = value[0];
        send(trackedFrame(value[0], value[1]));
      } else if (lastEventId === null) {
        send(frame({ data: serialize(value) }));
      } else {
        send(frame({ data: serialize(value), id: "" }) + frame({ event: "restore-id", data: "", id: lastEventId }));
      }
    }
    if (!abort.signal.aborted) send(frame({ event: "return", data: "" }));
  } catch (cause) {
    const error = getTRPCErrorFromUnknown(cause);
    if (!abort.signal.aborted) {
      opts.onError(error, path);
      const shape = getTRPCErrorShape({ config, ctx, error, input, path, type: "subscription" });
      send(frame({ event: "serialized-error", data: serialize(shape) }));
    }
  } finally {
    if (ping) clearInterval(ping);
    void iterator?.return?.(undefined)?.catch(() => undefined);
    flush();
    if (!res.writableEnded) res.end();
  }
}
