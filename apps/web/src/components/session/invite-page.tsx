"use client";

import { useEffect, useState } from "react";
import Link from "next/link";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import { Button } from "@/components/ui/button";
import { errorMessage } from "@/lib/errors";
import { SignUpForm } from "./sign-up-form";
import { takeFragmentCode } from "./account-api";

const STORED = "agentboard.invitation";

/**
 * An invitation link (`/invite#code=…`): someone without an account makes one; someone
 * signed in joins with a click. The code is kept for this tab only, so that signing in
 * first and coming back still finds it.
 */
export function InvitePage() {
  const trpc = useTRPC();
  const [code, setCode] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    const fromLink = takeFragmentCode();
    if (fromLink) sessionStorage.setItem(STORED, fromLink);
    setCode(fromLink ?? sessionStorage.getItem(STORED));
  }, []);
  const preview = useQuery(trpc.invitation.preview.queryOptions({ code: code ?? "" }, { enabled: !!code, retry: false }));
  const me = useQuery(trpc.token.whoami.queryOptions(undefined, { retry: false }));
  const accept = useMutation(
    trpc.invitation.accept.mutationOptions({
      onSuccess: () => {
        sessionStorage.removeItem(STORED);
        window.location.assign("/");
      },
    }),
  );
  const signedIn = me.data?.kind === "session";

  return (
    <main className="flex min-h-full items-center justify-center px-4 py-16">
      <div className="w-full max-w-md space-y-4">
        <h1 className="text-2xl font-semibold tracking-tight">Join a workspace</h1>
        {code === null ? (
          <p role="alert">
            Open the invitation link you were sent (it ends in <code>#code=…</code>).
          </p>
        ) : null}
        {preview.error ? (
          <p role="alert" className="text-sm text-red-600 dark:text-red-400">
            {errorMessage(preview.error)}
          </p>
        ) : null}
        {preview.data ? (
          <>
            <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="invitation">
              You are invited to <strong>{preview.data.workspaceName}</strong> as <strong>{preview.data.role}</strong>.
            </p>
            {signedIn ? (
              <div className="space-y-2">
                <Button variant="primary" className="w-full" disabled={accept.isPending} onClick={() => accept.mutate({ code: code! })}>
                  Join as {me.data?.name}
                </Button>
                {accept.error ? (
                  <p role="alert" className="text-sm text-red-600 dark:text-red-400">
                    {errorMessage(accept.error)}
                  </p>
                ) : null}
              </div>
            ) : me.isLoading ? null : (
              <>
                <SignUpForm code={code!} email={preview.data.email} submitLabel="Create account and join" />
                <p className="text-sm text-zinc-600 dark:text-zinc-400">
                  Already have an account?{" "}
                  <Link href="/login" className="underline">
                    Sign in
                  </Link>
                  , then open this page again.
                </p>
              </>
            )}
          </>
        ) : null}
      </div>
    </main>
  );
}
