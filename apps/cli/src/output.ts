/**
 * Every command prints exactly one JSON document: `{ ok: true, data, warnings }` or
 * `{ ok: false, error: { code, message, field? } }`, so scripts never parse prose.
 */
export interface Warning {
  code: "PARTIAL_SUCCESS";
  message: string;
  /** What part did not happen (e.g. "journal"). */
  subject: string;
}

export type Outcome = { ok: true; data: unknown; warnings: Warning[] } | { ok: false; error: { code: string; message: string; field?: string } };

export const success = (data: unknown, warnings: Warning[] = []): Outcome => ({ ok: true, data, warnings });
export const failure = (code: string, message: string, field?: string): Outcome => ({ ok: false, error: { code, message, ...(field ? { field } : {}) } });

/**
 * The document as JSON text. 64-bit counters (token counts, sizes) arrive as bigint: they
 * are written as JSON numbers, exact below 2^53, and as decimal strings beyond.
 */
export function formatOutcome(outcome: Outcome): string {
  return JSON.stringify(
    outcome,
    (_key, value: unknown) => (typeof value === "bigint" ? (value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString()) : value),
    2,
  );
}
