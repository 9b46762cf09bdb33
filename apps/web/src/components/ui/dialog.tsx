"use client";

import { useEffect, useRef, type ReactNode } from "react";
import { cn } from "./cn";

/**
 * A modal on the native <dialog>: the browser traps focus, closes on Escape and restores
 * focus to whatever opened it. `mayClose`, when given, is asked before Escape, the backdrop
 * or ✕ closes it (say, to keep unsaved edits unless the person agrees to lose them).
 */
export function Dialog({
  open,
  onClose,
  title,
  children,
  wide,
  mayClose,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  wide?: boolean;
  mayClose?: () => boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const requestClose = () => {
    if (!mayClose || mayClose()) onClose();
  };
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (open && !el.open) el.showModal();
    if (!open && el.open) el.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-label={title}
      onClose={onClose}
      onKeyDown={(e) => {
        // Escape is handled here rather than by the browser: a dialog's cancel can be
        // refused only once per user activation, and asking must work every time.
        if (e.key !== "Escape" || !mayClose) return;
        e.preventDefault();
        requestClose();
      }}
      onCancel={(e) => {
        if (!mayClose) return;
        e.preventDefault();
        requestClose();
      }}
      onClick={(e) => {
        // A click on the backdrop lands on the dialog element itself.
        if (e.target === ref.current) requestClose();
      }}
      className={cn(
        "m-auto max-h-[90vh] w-[calc(100%-2rem)] overflow-hidden rounded-xl bg-white p-0 " +
          "text-zinc-900 shadow-2xl ring-1 ring-zinc-200 dark:bg-zinc-900 dark:text-zinc-100 dark:ring-zinc-700",
        wide ? "max-w-3xl" : "max-w-lg",
      )}
    >
      {open ? (
        <div className="flex max-h-[90vh] flex-col">
          <header className="flex items-center justify-between border-b border-zinc-200 px-5 py-3 dark:border-zinc-800">
            <h2 className="text-base font-semibold">{title}</h2>
            <button type="button" onClick={requestClose} className="rounded p-1 text-zinc-500 hover:bg-zinc-100 dark:hover:bg-zinc-800" aria-label="Close">
              ✕
            </button>
          </header>
          <div className="overflow-y-auto px-5 py-4">{children}</div>
        </div>
      ) : null}
    </dialog>
  );
}
