import type { Prisma } from "../generated/postgresql/client.js";

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

/**
 * Where a run event read from SQLite keeps its payload's JSON text, for a writer that
 * sends the text on as it is (the SSE writer: a follower catching up on a long run is sent
 * megabytes of payloads it would otherwise parse, walk and stringify again). Not enumerable,
 * so a copy of the event (`{ ...event }`) does not carry it, and gone once the payload is
 * replaced.
 */
const RAW_PAYLOAD = Symbol("agentboard.rawPayload");

type WithRaw = { [RAW_PAYLOAD]?: string };

/** The payload's JSON text as stored, if `event` was read with it and its payload is unchanged. */
export function rawPayload(event: object): string | undefined {
  return (event as WithRaw)[RAW_PAYLOAD];
}

/**
 * A run event whose `payload` (a key of `event`, holding the JSON text) is parsed on first
 * use: most events a follower is sent are never looked into on the server.
 */
export function withJsonPayload<T extends { payload: string }>(event: T): Omit<T, "payload"> & { payload: Prisma.JsonValue } {
  const json = event.payload;
  let parsed: { value: unknown } | null = null;
  Object.defineProperty(event, RAW_PAYLOAD, { value: json, enumerable: false, configurable: true });
  Object.defineProperty(event, "payload", {
    enumerable: true,
    configurable: true,
    get: () => (parsed ??= { value: JSON.parse(json) }).value,
    set: (value: unknown) => {
      parsed = { value };
      delete (event as WithRaw)[RAW_PAYLOAD];
    },
  });
  return event as unknown as Omit<T, "payload"> & { payload: Prisma.JsonValue };
}
