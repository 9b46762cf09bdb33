import superjson, { type SuperJSONResult } from "superjson";

/**
 * Raw tRPC calls over real HTTP, for tests that must see what a caller sees (status codes,
 * bodies) and send what a typed client never would. Mutations are POSTed as one call, queries
 * are GETs with the input in the query string, as tRPC's links send them.
 */
export interface HttpAnswer {
  status: number;
  /** The response body as text (what the fuzz checks for leaks). */
  text: string;
  /** The deserialized data of a success. */
  data?: unknown;
  error?: { message: string; code?: string; httpStatus?: number; reason?: string };
}

export async function callOverHttp(
  base: string,
  token: string | null,
  path: string,
  type: "query" | "mutation",
  input: unknown,
  opts: { signal?: AbortSignal } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const body = JSON.stringify(superjson.serialize(input));
  const url = `${base}/api/trpc/${path}`;
  const res =
    type === "mutation"
      ? await fetch(url, { method: "POST", headers, body, signal: opts.signal })
      : await fetch(`${url}?input=${encodeURIComponent(body)}`, { headers, signal: opts.signal });
  return readAnswer(res.status, await res.text());
}

export function readAnswer(status: number, text: string): HttpAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { status, text };
  }
  const envelope = (Array.isArray(parsed) ? parsed[0] : parsed) as
    | {
        result?: { data?: SuperJSONResult };
        error?: { json?: { message: string; code?: number; data?: { code?: string; httpStatus?: number; reason?: string } } };
      }
    | undefined;
  if (envelope?.result?.data !== undefined) return { status, text, data: superjson.deserialize(envelope.result.data) };
  const e = envelope?.error?.json;
  return { status, text, error: e ? { message: e.message, code: e.data?.code, httpStatus: e.data?.httpStatus, reason: e.data?.reason } : undefined };
}
