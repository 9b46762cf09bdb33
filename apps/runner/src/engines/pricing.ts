/**
 * USD prices of Claude models per million tokens, used for run cost and budgets.
 *
 * Cache writes cost 1.25× and cache reads 0.1× the input price (5-minute cache), as on
 * Anthropic's price list. Models are matched by id prefix, so dated snapshots
 * (claude-sonnet-4-5-20250929) price like their alias.
 */

export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** Longest prefix wins; keep specific ids before family fallbacks. */
const PRICES: ReadonlyArray<readonly [prefix: string, price: ModelPrice]> = [
  ["claude-opus-4-0", { inputPerMTok: 15, outputPerMTok: 75 }],
  ["claude-opus-4-1", { inputPerMTok: 15, outputPerMTok: 75 }],
  ["claude-opus-4-2025", { inputPerMTok: 15, outputPerMTok: 75 }],
  ["claude-opus-4-5", { inputPerMTok: 5, outputPerMTok: 25 }],
  ["claude-opus-4-6", { inputPerMTok: 5, outputPerMTok: 25 }],
  ["claude-opus-4-7", { inputPerMTok: 5, outputPerMTok: 25 }],
  ["claude-opus-4-8", { inputPerMTok: 5, outputPerMTok: 25 }],
  ["claude-sonnet-4", { inputPerMTok: 3, outputPerMTok: 15 }],
  ["claude-haiku-4", { inputPerMTok: 1, outputPerMTok: 5 }],
  ["claude-3-7-sonnet", { inputPerMTok: 3, outputPerMTok: 15 }],
  ["claude-3-5-haiku", { inputPerMTok: 0.8, outputPerMTok: 4 }],
  ["claude-3-haiku", { inputPerMTok: 0.25, outputPerMTok: 1.25 }],
];

/**
 * Unknown models of a known family take the family's latest 4.x price; anything else the
 * Sonnet price, a middle guess that neither hides nor wildly inflates spend.
 */
const FAMILY_FALLBACK: ReadonlyArray<readonly [word: string, price: ModelPrice]> = [
  ["opus", { inputPerMTok: 5, outputPerMTok: 25 }],
  ["sonnet", { inputPerMTok: 3, outputPerMTok: 15 }],
  ["haiku", { inputPerMTok: 1, outputPerMTok: 5 }],
];

export const DEFAULT_PRICE: ModelPrice = { inputPerMTok: 3, outputPerMTok: 15 };

export function priceFor(model: string): ModelPrice {
  const id = model.toLowerCase();
  let best: readonly [string, ModelPrice] | undefined;
  for (const entry of PRICES) {
    if (id.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  if (best) return best[1];
  for (const [word, price] of FAMILY_FALLBACK) if (id.includes(word)) return price;
  return DEFAULT_PRICE;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens?: number;
  cacheReadInputTokens?: number;
}

export function costUsd(model: string, usage: TokenUsage): number {
  const p = priceFor(model);
  const input =
    usage.inputTokens * p.inputPerMTok +
    (usage.cacheCreationInputTokens ?? 0) * p.inputPerMTok * 1.25 +
    (usage.cacheReadInputTokens ?? 0) * p.inputPerMTok * 0.1;
  return (input + usage.outputTokens * p.outputPerMTok) / 1_000_000;
}
