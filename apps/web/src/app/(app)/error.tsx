"use client";

import { ErrorState } from "@/components/ui/states";

/** A page that crashed while rendering shows this instead of a blank screen. */
export default function PageError({ error, reset }: { error: Error; reset: () => void }) {
  return (
    <div className="p-6">
      <ErrorState error={error} retry={reset} title="This page failed" />
    </div>
  );
}
