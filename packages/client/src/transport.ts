import type { httpLink } from "@trpc/client";
import { request, type Dispatcher } from "undici";

type FetchEsque = NonNullable<Parameters<typeof httpLink>[0]["fetch"]>;

/**
 * What the client's queries and mutations are sent with: undici's `request`, the HTTP/1.1
 * client under Node's own `fetch`, without the WHATWG Request/Response/stream layers on
 * top. On the runner's hot calls (claim, heartbeat, appendEvents) those layers cost about
 * four times the CPU of the request itself (see `npm run bench:claim`). Connections are
 * kept alive by undici's global pool. Anything this does not cover (a Request object, a
 * streamed body) goes to the global `fetch`.
 */
export const requestFetch: FetchEsque = async (input, init) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : null;
  const body = init?.body;
  if (url === null || !(body == null || typeof body === "string" || body instanceof Uint8Array)) {
    return globalThis.fetch(input as Parameters<typeof fetch>[0], init as RequestInit);
  }
  const res = await request(url, {
    method: (init?.method ?? "GET") as Dispatcher.HttpMethod,
    headers: headerRecord(init?.headers),
    body: body ?? undefined,
    signal: init?.signal ?? undefined,
  });
  const text = await res.body.text();
  return {
    ok: res.statusCode >= 200 && res.statusCode < 300,
    status: res.statusCode,
    json: async () => JSON.parse(text) as unknown,
  };
};

function headerRecord(headers: unknown): Record<string, string> | undefined {
  if (headers == null) return undefined;
  if (Array.isArray(headers) || headers instanceof Headers) return Object.fromEntries(headers as Iterable<[string, string]>);
  return headers as Record<string, string>;
}
