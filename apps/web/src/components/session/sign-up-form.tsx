"use client";

import { useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";
import { signUp } from "./account-api";

/** Makes an account from a link's code (the setup link, or an invitation) and signs it in. */
export function SignUpForm({ code, email, submitLabel }: { code: string; email?: string | null; submitLabel: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const password = String(form.get("password") ?? "");
    if (password !== String(form.get("confirm") ?? "")) return setError("The passwords differ.");
    setBusy(true);
    setError(null);
    try {
      await signUp({ code, name: String(form.get("name") ?? ""), email: String(form.get("email") ?? ""), password });
      window.location.assign("/");
    } catch (err) {
      setBusy(false);
      setError(err instanceof Error ? err.message : "sign up failed");
    }
  }

  return (
    <form
      onSubmit={submit}
      aria-label="Create your account"
      className="space-y-4 rounded-xl bg-white p-6 shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800"
    >
      <Field label="Name">
        <Input name="name" autoComplete="name" required maxLength={200} />
      </Field>
      <Field label="Email">
        <Input name="email" type="email" autoComplete="email" required defaultValue={email ?? undefined} readOnly={!!email} />
      </Field>
      <Field label="Password" hint="At least 10 characters.">
        <Input name="password" type="password" autoComplete="new-password" required minLength={10} />
      </Field>
      <Field label="Password again">
        <Input name="confirm" type="password" autoComplete="new-password" required minLength={10} />
      </Field>
      {error ? (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400">
          {error}
        </p>
      ) : null}
      <Button type="submit" variant="primary" disabled={busy} className="w-full">
        {busy ? "Creating…" : submitLabel}
      </Button>
    </form>
  );
}
