import type { DodEvidence, DodItem } from "@/trpc/types";
import { cn } from "@/components/ui/cn";

const STYLE: Record<DodItem["status"], { dot: string; text: string; hint: string }> = {
  pending: { dot: "ring-zinc-400", text: "text-zinc-500", hint: "no evidence yet" },
  done: { dot: "bg-sky-400 ring-sky-500", text: "text-sky-700 dark:text-sky-300", hint: "the newest evidence waits for a decision" },
  validated: { dot: "bg-emerald-500 ring-emerald-600", text: "text-emerald-700 dark:text-emerald-400", hint: "validated evidence" },
  failed: { dot: "bg-red-500 ring-red-600", text: "text-red-700 dark:text-red-400", hint: "the newest evidence was rejected or is a failing check" },
};

/** An item's status as a dot and a word (the word is what screen readers and tests read). */
export function DodStatus({ status }: { status: DodItem["status"] }) {
  const s = STYLE[status];
  return (
    <span className={cn("inline-flex w-20 shrink-0 items-center gap-1.5 text-xs font-medium", s.text)} title={s.hint} data-testid="dod-status">
      <span aria-hidden className={cn("inline-block size-2.5 rounded-full ring-1 ring-inset", s.dot)} />
      {status}
    </span>
  );
}

/** Mirrors the server's gate: validated and not rejected since. */
export function isValidEvidence(e: DodEvidence): boolean {
  return e.validatedAt !== null && e.rejectedAt === null;
}

export function isSatisfied(item: DodItem): boolean {
  return item.evidence.some(isValidEvidence);
}
