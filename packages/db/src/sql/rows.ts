/**
 * A row as PostgreSQL's `row_to_json` gives it → the shape the Prisma client gives: keys
 * in camelCase (every column is the snake_case of its field, by the schema's @map
 * convention), `…At` timestamps, stored as UTC without a zone, as Dates, and the
 * schema's `BigInt` fields (JSON numbers, exact below 2^53) as bigints. A test
 * compares this with the client's own reads for every model the queue returns, so a
 * schema change that breaks the convention fails there.
 */
export function fromRowJson<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const column in row) {
    const value = row[column];
    const f = fieldOf(column);
    out[f.name] = f.isTime && typeof value === "string" ? new Date(`${value}Z`) : f.isBigInt && typeof value === "number" ? BigInt(value) : value;
  }
  return out as T;
}

/** Column → field, worked out once per column name (this runs for every claimed row). */
const fields = new Map<string, { name: string; isTime: boolean; isBigInt: boolean }>();

/** The `BigInt` fields of the models the queue returns (runs, projects). */
const BIGINT_FIELDS = new Set(["tokensIn", "tokensOut"]);

function fieldOf(column: string): { name: string; isTime: boolean; isBigInt: boolean } {
  let f = fields.get(column);
  if (!f) {
    const name = column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    fields.set(column, (f = { name, isTime: name.endsWith("At"), isBigInt: BIGINT_FIELDS.has(name) }));
  }
  return f;
}
