"use client";

import { useState } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";

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
          const res = await fetch("/api/session", { method: "DELETE" });
          if (!res.ok) throw new Error(`sign out failed (${res.status})`);
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
