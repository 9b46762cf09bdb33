/**
 * Everything in a value as one searchable text, database rows included: their 64-bit
 * counters (BigInt) are written as decimals, which plain JSON.stringify refuses.
 */
export function textOf(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}
