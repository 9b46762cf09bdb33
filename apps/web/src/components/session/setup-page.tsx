"use client";

import { useEffect, useState } from "react";
import { SignUpForm } from "./sign-up-form";
import { takeFragmentCode } from "./account-api";

/** The one-time setup link (`/setup#code=…`, printed by the first start): creates the first administrator. */
export function SetupPage() {
  const [code, setCode] = useState<string | null | undefined>(undefined);
  useEffect(() => setCode(takeFragmentCode()), []);
  return (
    <main className="flex min-h-full items-center justify-center px-4 py-16">
      <div className="w-full max-w-md">
        <h1 className="mb-1 text-2xl font-semibold tracking-tight">Set up agentboard</h1>
        <p className="mb-6 text-sm text-zinc-600 dark:text-zinc-400">Create the first administrator account. This link works once.</p>
        {code === undefined ? null : code ? (
          <SignUpForm code={code} submitLabel="Create admin account" />
        ) : (
          <p role="alert" className="text-sm text-red-600 dark:text-red-400">
            Open the setup link the server printed when it started (it ends in <code>#code=…</code>).
          </p>
        )}
      </div>
    </main>
  );
}
