/**
 * JSON as REST and MCP send it. Dates become ISO 8601 strings (their own `toJSON`). A BigInt (a
 * 64-bit counter) becomes a JSON number while it is a safe integer — every counter we keep
 * stays far below 2^53 — and a decimal string beyond, rather than failing the answer.
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v), indent);
}
