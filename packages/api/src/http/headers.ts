import type { ServerResponse } from "node:http";

/**
 * Headers every response carries, the board's pages and the API's answers alike: no page
 * may be framed by another site (clickjacking), no answer is sniffed into another type, no
 * address leaks to other sites through the Referer header. The CSP covers only what it can
 * without breaking Next.js's inline scripts: framing, `<base>`, form targets and plugins.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-frame-options": "DENY",
  "content-security-policy": "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** Sets the security headers on a response before anything writes its head. */
export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}
