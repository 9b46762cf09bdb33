/** The account endpoints (packages/api auth/account-routes.ts), for the sign-in, setup and invitation pages. */

async function send(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const message =
      data && typeof data === "object" && ("error" in data || "message" in data)
        ? String((data as { error?: unknown; message?: unknown }).error ?? (data as { message?: unknown }).message)
        : res.status === 429
          ? "too many attempts: wait a minute and try again"
          : `failed (${res.status})`;
    throw new Error(res.status === 429 ? "Too many sign-in attempts: wait a minute and try again." : message);
  }
  return data;
}

export const signInWithPassword = (email: string, password: string) => send("/api/auth/sign-in/email", { email, password });

export const signUp = (input: { code: string; name: string; email: string; password: string }) => send("/api/account/sign-up", input);

/** Starts single sign-on: the provider's page comes next. */
export async function signInWithOidc(providerId: string): Promise<void> {
  const data = (await send("/api/auth/sign-in/social", { provider: providerId, callbackURL: "/" })) as { url?: string };
  if (data.url) window.location.assign(data.url);
}

export async function providers(): Promise<{ password: boolean; oidc: { providerId: string; name: string } | null }> {
  const res = await fetch("/api/account/providers");
  return (await res.json()) as { password: boolean; oidc: { providerId: string; name: string } | null };
}

/** Ends this browser's session (a person's and a token sign-in alike). */
export async function signOut(): Promise<void> {
  await fetch("/api/auth/sign-out", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  await fetch("/api/session", { method: "DELETE" });
}

/** Ends every session of the signed-in person, on every device. */
export const signOutEverywhere = () => send("/api/auth/revoke-sessions", {});

/** The code a link carries in its fragment (never sent to the server), taken out of the address bar. */
export function takeFragmentCode(): string | null {
  const code = new URLSearchParams(window.location.hash.slice(1)).get("code")?.trim() ?? null;
  if (code) window.history.replaceState(null, "", window.location.pathname + window.location.search);
  return code;
}
