"use client";

import { useState } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { signOutEverywhere } from "@/components/session/account-api";

export function SignOutEverywhere() {
  const [busy, setBusy] = useState(false);
  return (
    <section className="space-y-2">
      <h2 className="text-lg font-semibold">Sessions</h2>
      <p className="text-sm text-zinc-500">Ends your sessions on every device and browser, this one included. Your tokens keep working.</p>
      <Button
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await signOutEverywhere();
            window.location.assign("/login");
          } catch (err) {
            setBusy(false);
            toast.error("Could not sign out", { description: err instanceof Error ? err.message : undefined });
          }
        }}
      >
        Sign out everywhere
      </Button>
    </section>
  );
}
