import type { IncomingMessage } from "node:http";
import { isSameOrigin } from "@agentboard/api";

export { isSameOrigin };

import { SESSION_COOKIE } from "./session-cookie.js";

export { SESSION_COOKIE };

const THIRTY_DAYS_S = 30 * 24 * 3600;

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) {
      try {
        return decodeURIComponent(v.join("="));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function isHttps(req: IncomingMessage): boolean {
  const forwarded = req.headers["x-forwarded-proto"];
  const proto = Array.isArray(forwarded) ? forwarded[0] : forwarded;
  return proto === "https" || ("encrypted" in req.socket && req.socket.encrypted === true);
}

/** Set-Cookie for a new session. Lax keeps the cookie off cross-site POSTs. */
export function sessionCookie(req: IncomingMessage, token: string): string {
  const secure = isHttps(req) ? "; Secure" : "";
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${THIRTY_DAYS_S}${secure}`;
}

export function clearedSessionCookie(req: IncomingMessage): string {
  const secure = isHttps(req) ? "; Secure" : "";
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0${secure}`;
}

/**
 * The session token of a browser request, or undefined. A state-changing request from
 * another site never gets the cookie's authority, whatever the browser sent: SameSite=Lax
 * already keeps the cookie off cross-site POSTs, this also covers same-site pages on other
 * ports or subdomains and browsers without SameSite.
 */
export function sessionTokenOf(req: IncomingMessage): string | undefined {
  const token = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (!token) return undefined;
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD" && !isSameOrigin(req)) return undefined;
  return token;
}
