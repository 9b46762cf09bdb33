"use client";

import { useEffect, useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";
import { providers, signInWithOidc, signInWithPassword } from "./account-api";

/** Sign-in for people: email and password, and single sign-on when the server has an OIDC provider. */
export function PasswordSignIn({ then = "/" }: { then?: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [oidc, setOidc] = useState<{ providerId: string; name: string } | null>(null);
  useEffect(() => {
    providers().then(
      (p) => setOidc(p.oidc),
      () => undefined,
    );
  }, []);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await signInWithPassword(String(form.get("email") ?? ""), String(form.get("password") ?? ""));
      window.location.assign(then);
    } catch (err) {
      setBusy(false);
      setError(err instanceof Error ? err.message : "sign in failed");
    }
  }

  return (
    <div className="space-y-3">
      <form
        onSubmit={submit}
        aria-label="Sign in with email"
        className="space-y-4 rounded-xl bg-white p-6 shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800"
      >
        <Field label="Email">
          <Input name="email" type="email" autoComplete="email" required />
        </Field>
        <Field label="Password">
          <Input name="password" type="password" autoComplete="current-password" required />
        </Field>
        {error ? (
          <p role="alert" className="text-sm text-red-600 dark:text-red-400">
            {error}
          </p>
        ) : null}
        <Button type="submit" variant="primary" disabled={busy} className="w-full">
          {busy ? "Signing in…" : "Continue"}
        </Button>
      </form>
      {oidc ? (
        <Button
          type="button"
          className="w-full"
          onClick={() => void signInWithOidc(oidc.providerId).catch((err: unknown) => setError(err instanceof Error ? err.message : "single sign-on failed"))}
        >
          Continue with {oidc.name}
        </Button>
      ) : null}
    </div>
  );
}
