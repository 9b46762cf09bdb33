import type { IncomingMessage, ServerResponse } from "node:http";
import { toNodeHandler } from "better-auth/node";
import { isAPIError } from "better-auth/api";
import { z } from "zod";
import type { Deps } from "../services/deps.js";
import * as members from "../services/members.js";
import { AppError } from "../errors.js";
import { CLIENT_IP_HEADER, type Accounts } from "./accounts.js";
import { isSameOrigin } from "./same-origin.js";
import { readSmallBody } from "./small-body.js";

/**
 * The account endpoints, beside the tRPC API:
 *   /api/auth/*            better-auth: sign-in (email, OIDC), sign-out, sessions,
 *                          revoke-sessions (sign out everywhere), change-password
 *   POST /api/account/sign-up   { code, name, email, password }: makes an account from the
 *                          setup link (the first server administrator) or an invitation,
 *                          and signs it in. Only from the board's own pages.
 *   GET  /api/account/providers  which sign-in methods exist (for the login page)
 * better-auth checks the Origin of its own state-changing requests against the board's
 * address; the sign-up route checks it like every cookie-authenticated mutation.
 */
export interface AccountRoutes {
  handles(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

const zSignUp = z.object({
  code: z
    .string()
    .min(10)
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/),
  name: z.string().trim().min(1).max(200),
  email: z
    .email()
    .max(254)
    .transform((e) => e.toLowerCase()),
  password: z.string().min(10, "at least 10 characters").max(256),
});

const MAX_BODY = 16 * 1024;

export function createAccountRoutes(deps: Deps, accounts: Accounts): AccountRoutes {
  const authHandler = toNodeHandler(accounts.auth);

  async function signUp(req: IncomingMessage, res: ServerResponse) {
    if (!isSameOrigin(req)) return json(res, 403, { error: "sign up from this server's own pages" });
    const body = await readSmallBody(req, MAX_BODY);
    if (body === null) return json(res, 413, { error: "too large" });
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch {
      return json(res, 400, { error: "expected JSON { code, name, email, password }" });
    }
    const parsed = zSignUp.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return json(res, 400, { error: issue?.message ?? "invalid", field: issue?.path.join(".") ?? null });
    }
    const input = parsed.data;
    const isSetup = input.code.startsWith("setup_");
    // The code is checked before the account exists and used up only after: a refused
    // sign-up (a taken email, say) leaves the link working.
    if (isSetup) {
      if (!(await members.setupCodeIsValid(deps, input.code)))
        return json(res, 404, {
          error: "this setup link is not valid any more (an administrator exists, or the server restarted and printed a new one)",
          reason: "INVITATION_INVALID",
        });
    } else {
      try {
        await members.checkInvitationFor(deps, input.code, input.email);
      } catch (err) {
        if (err instanceof AppError)
          return json(res, err.code === "BAD_REQUEST" ? 400 : 404, { error: err.message, reason: err.reason, field: err.details?.field ?? null });
        throw err;
      }
    }
    let created: { headers: Headers; response: { user: { id: string; email: string } } };
    try {
      created = await accounts.auth.api.signUpEmail({ body: { name: input.name, email: input.email, password: input.password }, returnHeaders: true });
    } catch (err) {
      if (isAPIError(err)) {
        const taken = err.body?.code === "USER_ALREADY_EXISTS" || err.body?.code === "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL";
        return json(res, taken ? 409 : 400, {
          error: taken ? "an account with this email exists: sign in, then open the link again" : (err.body?.message ?? err.message),
          field: taken ? "email" : "password",
        });
      }
      throw err;
    }
    const user = created.response.user;
    if (isSetup) {
      if (!(await members.consumeSetupCode(deps, input.code))) {
        // Someone used the link at the same moment: this account stays without rights.
        return json(res, 409, { error: "the setup link was used meanwhile", reason: "INVITATION_INVALID" });
      }
      await members.makeServerAdmin(deps, user.id);
    } else {
      await members.acceptInvitation(deps, { code: input.code, userId: user.id, email: user.email });
    }
    const cookies = created.headers.getSetCookie();
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store", "set-cookie": cookies });
    res.end(JSON.stringify({ userId: user.id, email: user.email, serverAdmin: isSetup }));
  }

  return {
    handles(req) {
      const path = (req.url ?? "").split("?")[0] ?? "";
      return path.startsWith("/api/auth/") || path === "/api/account/sign-up" || path === "/api/account/providers";
    },
    handle(req, res) {
      // What the rate limit counts by: the socket's address, never a client's header.
      req.headers[CLIENT_IP_HEADER] = req.socket.remoteAddress ?? "unknown";
      const path = (req.url ?? "").split("?")[0] ?? "";
      let work: Promise<void>;
      if (path === "/api/account/providers") work = Promise.resolve(json(res, 200, { password: true, oidc: accounts.oidc }));
      else if (path === "/api/account/sign-up") work = req.method === "POST" ? signUp(req, res) : Promise.resolve(json(res, 405, { error: "use POST" }));
      else work = authHandler(req, res);
      work.catch((err: unknown) => {
        console.error("[agentboard] account:", err);
        if (!res.headersSent) json(res, 500, { error: "internal error" });
        else res.end();
      });
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}
