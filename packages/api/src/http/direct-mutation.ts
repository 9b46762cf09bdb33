import type { IncomingMessage, ServerResponse } from "node:http";
import { callTRPCProcedure, getTRPCErrorFromUnknown, getTRPCErrorShape, transformTRPCResponse, TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { appRouter } from "../root.js";
import { type Context, rootConfig as config, transformer } from "../trpc.js";

/**
 * A single mutation call (`POST /api/trpc/<path>`, JSON, not batched, not streamed) served
 * with tRPC's own public building blocks — procedure call, error shape, response
 * transform — but without its fetch-API round trip (a web Request, abort signals, a web
 * Response piped through web streams), which costs more CPU than the rest of a small call.
 * It serves exactly the runner protocol's mutations below, the calls every runner makes
 * for every run. Everything else (other mutations, queries, batches, streams) goes through
 * tRPC's handler; the wire format is the same either way, and every client test runs
 * through both.
 */

/** The mutations served here: a runner's claims, lease, events, checks, approvals and reports. */
export const DIRECT_MUTATIONS: ReadonlySet<string> = new Set([
  "run.claim",
  "run.start",
  "run.heartbeat",
  "run.appendEvents",
  "run.complete",
  "run.requestApproval",
  "run.expireApproval",
  "dod.reportCheck",
  "run.claimVerification",
  "run.heartbeatVerification",
  "run.completeVerification",
]);

/** The path of a mutation this path serves, or null to leave the request to tRPC. */
export function singleMutationPath(req: IncomingMessage, basePath: string): string | null {
  if (req.method !== "POST" || req.headers["trpc-accept"] !== undefined) return null;
  if (!(req.headers["content-type"] ?? "").startsWith("application/json")) return null;
  const url = req.url ?? "";
  if (!url.startsWith(basePath) || url.includes("?")) return null;
  const path = url.slice(basePath.length);
  return DIRECT_MUTATIONS.has(path) ? path : null;
}

/** What a direct path is given to serve one request. */
export interface DirectCall {
  req: IncomingMessage;
  res: ServerResponse;
  createContext(): Promise<Context>;
  onError(error: TRPCError, path: string): void;
}

export async function serveMutation(opts: DirectCall & { path: string; body: string }): Promise<void> {
  const { res, path } = opts;
  // A long-polling claim stops waiting when its caller goes away.
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableEnded) abort.abort();
  });
  let ctx: Context | undefined;
  let input: unknown;
  let status = 200;
  let payload: unknown;
  try {
    ctx = await opts.createContext();
    const data = await callTRPCProcedure({
      router: appRouter,
      path,
      type: "mutation",
      ctx,
      signal: abort.signal,
      batchIndex: 0,
      getRawInput: async () => (input = opts.body === "" ? undefined : transformer.input.deserialize(parseJson(opts.body))),
    });
    payload = transformTRPCResponse(config, { result: { data } });
  } catch (cause) {
    const error = getTRPCErrorFromUnknown(cause);
    opts.onError(error, path);
    status = getHTTPStatusCodeFromError(error);
    payload = transformTRPCResponse(config, { error: getTRPCErrorShape({ config, ctx, error, input, path, type: "mutation" }) });
  }
  if (res.destroyed) return;
  const json = JSON.stringify(payload);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json), vary: "trpc-accept, accept" });
  res.end(json);
}

/** Bad JSON is the caller's BAD_REQUEST, with the parser's message, as tRPC answers it. */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (cause) {
    throw new TRPCError({ code: "BAD_REQUEST", message: (cause as Error).message, cause });
  }
}
