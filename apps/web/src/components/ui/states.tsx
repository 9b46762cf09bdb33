import type { ReactNode } from "react";
import { errorMessage } from "@/lib/errors";
import { Button } from "./button";

export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <span role="status" className="inline-flex items-center gap-2 text-sm text-zinc-500">
      <span className="size-4 animate-spin rounded-full border-2 border-zinc-300 border-t-indigo-500" aria-hidden />
      {label}…
    </span>
  );
}

export function Loading({ label }: { label?: string }) {
  return (
    <div className="flex min-h-40 items-center justify-center">
      <Spinner label={label} />
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-zinc-300 px-6 py-10 text-center dark:border-zinc-700">
      <p className="text-sm font-medium text-zinc-700 dark:text-zinc-300">{title}</p>
      {children ? <div className="mt-2 text-sm text-zinc-500">{children}</div> : null}
    </div>
  );
}

export function ErrorState({ error, retry, title = "Could not load this" }: { error: unknown; retry?: () => void; title?: string }) {
  return (
    <div
      role="alert"
      className="rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200"
    >
      <p className="font-medium">{title}</p>
      <p className="mt-1">{errorMessage(error)}</p>
      {retry ? (
        <Button size="sm" className="mt-2" onClick={retry}>
          Try again
        </Button>
      ) : null}
    </div>
  );
}
