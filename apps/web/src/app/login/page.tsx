import type { Metadata } from "next";
import { Suspense } from "react";
import { LoginForm } from "@/components/session/login-form";

export const metadata: Metadata = { title: "Sign in" };

export default function LoginPage() {
  return (
    <main className="flex min-h-full items-center justify-center px-4 py-16">
      <div className="w-full max-w-md">
        <h1 className="mb-1 text-2xl font-semibold tracking-tight">
          agent<span className="text-indigo-600 dark:text-indigo-400">board</span>
        </h1>
        <p className="mb-6 text-sm text-zinc-600 dark:text-zinc-400">
          Sign in with an API token. <code className="text-xs">npm start</code> prints a sign-in link with the admin token; an admin can create tokens for others.
        </p>
        <Suspense>
          <LoginForm />
        </Suspense>
      </div>
    </main>
  );
}
