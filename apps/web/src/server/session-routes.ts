import type { IncomingMessage, ServerResponse } from "node:http";
import { readSmallBody, type ApiCore, type Principal } from "@agentboard/api";
import { clearedSessionCookie, isSameOrigin, sessionCookie } from "./session.js";

/**
 * Signing in to the board until user accounts exist: an API token becomes an httpOnly
 * session cookie.
 *   POST   /api/session     JSON { token } → { name, role, workspaceId }; a form post redirects.
 *                           Only from this server's own pages (isSameOrigin): another site
 *                           must not sign a browser in as someone else (login CSRF).
 *   DELETE /api/session     signs out, likewise only from the board's pages
 *   GET    /login?token=…   the sign-in link of earlier versions: redirected to
 *                           /login#token=…, where the login page takes over as for the link
 *                           printed now. Signing in is never a GET.
 * The printed link is /login#token=…: the fragment never reaches the server or its logs,
 * and the login page replaces the address before it posts the token.
 */
export interface SessionRoutes {
  handles(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

type Verdict = { ok: true; principal: Principal } | { ok: false; status: 401 | 403; message: string };

const MAX_BODY = 16 * 1024;

export function createSessionRoutes(core: ApiCore): SessionRoutes {
  async function verify(token: string): Promise<Verdict> {
    const trimmed = token.trim();
    if (!trimmed || trimmed.length > 512) return { ok: false, status: 401, message: "that token is not valid" };
    const { principal } = await core.createContext({ authorization: `Bearer ${trimmed}` });
    if (!principal) return { ok: false, status: 401, message: "that token is not valid (unknown or revoked)" };
    if (principal.role === "runner") return { ok: false, status: 403, message: "runner tokens cannot sign in to the board" };
    return { ok: true, principal };
  }

  async function signIn(req: IncomingMessage, res: ServerResponse) {
    if (!isSameOrigin(req)) return refuse(res, 403, "sign in from this server's own login page");
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim();
    const body = await readSmallBody(req, MAX_BODY);
    if (body === null) return refuse(res, 413, "expected a token, not that much");
    const isForm = type === "application/x-www-form-urlencoded";
    let token = "";
    if (isForm) token = new URLSearchParams(body).get("token") ?? "";
    else {
      try {
        const parsed: unknown = JSON.parse(body);
        if (parsed && typeof parsed === "object" && "token" in parsed && typeof parsed.token === "string") token = parsed.token;
      } catch {
        return json(res, 400, { error: "expected JSON { token }" });
      }
    }
    const verdict = await verify(token);
    if (!verdict.ok) {
      if (isForm) return redirect(res, `/login?error=${verdict.status === 403 ? "runner" : "invalid"}`);
      return json(res, verdict.status, { error: verdict.message });
    }
    const cookie = sessionCookie(req, token.trim());
    if (isForm) return redirect(res, "/", cookie);
    const { name, role, workspaceId } = verdict.principal;
    json(res, 200, { name, role, workspaceId }, cookie);
  }

  return {
    handles(req) {
      const path = (req.url ?? "").split("?")[0];
      if (path === "/api/session") return true;
      return path === "/login" && req.method === "GET" && new URL(req.url ?? "/", "http://x").searchParams.has("token");
    },
    handle(req, res) {
      const url = new URL(req.url ?? "/", "http://localhost");
      const work =
        url.pathname === "/login"
          ? Promise.resolve(redirect(res, `/login#token=${encodeURIComponent(url.searchParams.get("token") ?? "")}`))
          : req.method === "POST"
            ? signIn(req, res)
            : req.method === "DELETE"
              ? Promise.resolve(
                  isSameOrigin(req) ? json(res, 200, { ok: true }, clearedSessionCookie(req)) : refuse(res, 403, "sign out from the board's own pages"),
                )
              : Promise.resolve(json(res, 405, { error: "use POST or DELETE" }));
      work.catch((err: unknown) => {
        console.error("[agentboard] session:", err);
        if (!res.headersSent) json(res, 500, { error: "internal error" });
        else res.end();
      });
    },
  };
}

function redirect(res: ServerResponse, location: string, cookie?: string) {
  res.writeHead(303, { location, "cache-control": "no-store", ...(cookie ? { "set-cookie": cookie } : {}) });
  res.end();
}

function json(res: ServerResponse, status: number, body: unknown, cookie?: string) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...(cookie ? { "set-cookie": cookie } : {}) });
  res.end(JSON.stringify(body));
}

/** A refusal before the body was read: the connection closes rather than read the rest. */
function refuse(res: ServerResponse, status: 403 | 413, error: string) {
  res.setHeader("connection", "close");
  json(res, status, { error });
}
