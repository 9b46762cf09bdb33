import type { CardRow } from "@/trpc/types";

/** Why a card's latest run needs a person (`card.list`'s `attention`, docs/review-loop.md). */
export type Attention = NonNullable<CardRow["runs"][number]["attention"]>;

export const ATTENTION_LABEL: Record<Attention, string> = {
  approval: "needs approval",
  message: "message not read",
  failed: "failed",
  review: "to review",
};

export const ATTENTION_SENTENCE: Record<Attention, string> = {
  approval: "waits for your approval",
  message: "stopped before reading your message",
  failed: "failed",
  review: "succeeded and waits for review",
};

/** The actor string the server records for this session (`createdBy` of what it starts). */
export function actorOfSession(s: { name: string; role: string; userId?: string | null } | undefined): string | null {
  if (!s) return null;
  return s.userId ? `user:${s.name}` : `${s.role}:${s.name}`;
}

export interface AttentionNotice {
  runId: string;
  cardId: string;
  title: string;
  attention: Attention;
}

/**
 * What changed since `seen` (run id → attention last seen): runs started by `me` that now
 * need a person and did not before. A run seen for the first time with an attention already
 * set is not news (the board was just opened); `seen` is updated in place.
 */
export interface CardWithLatestRun {
  id: string;
  title: string;
  runs: readonly { id: string; createdBy: string | null; attention: Attention | null }[];
}

export function newAttention(
  seen: Map<string, Attention | null>,
  cards: readonly CardWithLatestRun[],
  me: string | null,
  firstLoad: boolean,
): AttentionNotice[] {
  const out: AttentionNotice[] = [];
  for (const card of cards) {
    const run = card.runs[0];
    if (!run) continue;
    const now = run.attention ?? null;
    const had = seen.has(run.id);
    const before = seen.get(run.id) ?? null;
    seen.set(run.id, now);
    if (now === null || now === before || run.createdBy !== me || me === null) continue;
    if (!had && firstLoad) continue;
    out.push({ runId: run.id, cardId: card.id, title: card.title, attention: now });
  }
  return out;
}
