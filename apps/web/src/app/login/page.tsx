import type { Metadata } from "next";
import { headers } from "next/headers";
import { Suspense } from "react";
import { LoginForm } from "@/components/session/login-form";
import { PasswordSignIn } from "@/components/session/password-form";

export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage() {
  // A sign-in link (/login#token=…) signs in by itself only when the browser opened it
  // directly — typed, pasted, opened from a terminal: Sec-Fetch-Site "none". Opened from
  // another site or page it asks first: a link must not sign anyone in as someone else.
  const openedDirectly = (await headers()).get("sec-fetch-site") === "none";
  return (
    <main className="flex min-h-full items-center justify-center px-4 py-16">
      <div className="w-full max-w-md">
        <h1 className="mb-1 text-2xl font-semibold tracking-tight">
          agent<span className="text-indigo-600 dark:text-indigo-400">board</span>
        </h1>
        <p className="mb-6 text-sm text-zinc-600 dark:text-zinc-400">Sign in with your account. New here? Ask an admin for an invitation link.</p>
        <PasswordSignIn />
        <h2 className="mb-1 mt-8 text-sm font-semibold">Or with an API token</h2>
        <p className="mb-3 text-xs text-zinc-500">
          For automation and the server&apos;s admin token (<code>npm start</code> prints a sign-in link with it).
        </p>
        <Suspense>
          <LoginForm openedDirectly={openedDirectly} />
        </Suspense>
      </div>
    </main>
  );
}
