"use client";

import { useState } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { signOut } from "./account-api";

export function SignOutButton() {
  const [busy, setBusy] = useState(false);
  return (
    <Button
      variant="ghost"
      size="sm"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        try {
          await signOut();
          // A full load drops every cached query of the old session.
          window.location.assign("/login");
        } catch (err) {
          setBusy(false);
          toast.error("Could not sign out", { description: err instanceof Error ? err.message : undefined });
        }
      }}
    >
      Sign out
    </Button>
  );
}
