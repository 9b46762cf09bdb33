import type { IncomingMessage, ServerResponse } from "node:http";
import { setSecurityHeaders } from "@agentboard/api";

/** The methods pages and routes answer. Next.js answers TRACE (and the like) with a 500. */
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/**
 * What every request to the server meets first, whatever answers it (the API, the session
 * routes, Next.js): the security headers are set, and a method nothing here serves answers
 * 405. False when the request was answered here.
 */
export function admitRequest(req: IncomingMessage, res: ServerResponse): boolean {
  setSecurityHeaders(res);
  if (METHODS.includes(req.method ?? "")) return true;
  const body = JSON.stringify({ error: `${req.method} is not supported` });
  res.writeHead(405, { allow: METHODS.join(", "), "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
  return false;
}
