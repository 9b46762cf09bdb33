"use client";

import { useEffect, useState, type FormEvent } from "react";
import { useSearchParams } from "next/navigation";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";

const REASONS: Record<string, string> = {
  invalid: "That token is not valid (unknown or revoked).",
  runner: "Runner tokens cannot sign in to the board.",
  expired: "Your session ended. Sign in again.",
};

/**
 * Signs in with a pasted token, or with the token of a sign-in link (`/login#token=…`): the
 * fragment is read here, taken out of the address bar and this history entry at once, and
 * posted. A link the browser did not open directly fills the form and waits for a click.
 */
export function LoginForm({ openedDirectly }: { openedDirectly: boolean }) {
  const params = useSearchParams();
  const initial = params.get("error");
  const [error, setError] = useState<string | null>(initial ? (REASONS[initial] ?? "Sign in again.") : null);
  const [busy, setBusy] = useState(false);
  /** The token of a link that waits for a click. */
  const [linked, setLinked] = useState<string | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: signIn only sets state and navigates; subscribing again on every render would change nothing.
  useEffect(() => {
    const takeLinkToken = () => {
      const token = new URLSearchParams(window.location.hash.slice(1)).get("token")?.trim();
      if (!token) return;
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
      if (openedDirectly) void signIn(token);
      else setLinked(token);
    };
    takeLinkToken();
    // A link opened while this page is already showing changes only the fragment: no load.
    window.addEventListener("hashchange", takeLinkToken);
    return () => window.removeEventListener("hashchange", takeLinkToken);
  }, [openedDirectly]);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const token = String(new FormData(e.currentTarget).get("token") ?? "").trim();
    if (!token) return setError("Paste a token first.");
    await signIn(token);
  }

  async function signIn(token: string) {
    setBusy(true);
    setError(null);
    try {
      const res = await fetch("/api/session", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token }),
      });
      if (!res.ok) {
        const body: unknown = await res.json().catch(() => null);
        const message = body && typeof body === "object" && "error" in body && typeof body.error === "string" ? body.error : `sign in failed (${res.status})`;
        throw new Error(message);
      }
      window.location.assign("/");
    } catch (err) {
      setBusy(false);
      setError(err instanceof Error ? err.message : "sign in failed");
    }
  }

  return (
    // Without JavaScript the form posts itself and the server redirects.
    <form
      method="post"
      action="/api/session"
      onSubmit={submit}
      className="space-y-4 rounded-xl bg-white p-6 shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800"
    >
      {linked ? (
        <p role="status" className="text-sm text-amber-700 dark:text-amber-400">
          This sign-in link was opened from another page. Sign in only if you opened it yourself.
        </p>
      ) : null}
      <Field label="API token">
        <Input
          key={linked ?? ""}
          defaultValue={linked ?? undefined}
          name="token"
          type="password"
          autoComplete="off"
          autoFocus
          required
          placeholder="ab_…"
          aria-describedby={error ? "login-error" : undefined}
        />
      </Field>
      {error ? (
        <p id="login-error" role="alert" className="text-sm text-red-600 dark:text-red-400">
          {error}
        </p>
      ) : null}
      <Button type="submit" variant="primary" disabled={busy} className="w-full">
        {busy ? "Signing in…" : "Sign in"}
      </Button>
    </form>
  );
}
