import type { IncomingMessage } from "node:http";

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether a request comes from this server's own pages, for anything that changes state
 * on a browser's say-so. Where the browser sends `Sec-Fetch-Site` it decides: only
 * `same-origin`. Otherwise `Origin` must name this host; `Origin: null` (a sandboxed frame,
 * a data: URL, a cross-site redirect) is another site. A request with neither header comes
 * from no browser — a program that holds its own token, which no other site can forge.
 */
export function isSameOrigin(req: IncomingMessage): boolean {
  const site = header(req, "sec-fetch-site");
  if (site !== undefined) return site === "same-origin";
  const origin = header(req, "origin");
  if (origin === undefined) return true;
  try {
    return origin !== "null" && new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Whether a request may carry a cookie's authority: reads always, changes only from the board's own pages (CSRF). */
export function cookieMayAct(req: IncomingMessage): boolean {
  const method = req.method ?? "GET";
  return method === "GET" || method === "HEAD" || isSameOrigin(req);
}
