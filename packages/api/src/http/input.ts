import { TRPCError } from "@trpc/server";
import superjson from "superjson";

/**
 * What a call's input may look like on the wire, checked before anything walks it: every
 * failure here is the caller's BAD_REQUEST with a message that says what was wrong, never
 * a JavaScript error from deep inside a parser.
 */

/**
 * Inputs nested deeper than this are refused before they are parsed. Nothing the API takes
 * comes close (an event payload of an agent's tool call is a few levels); a deep value
 * costs the main thread (JSON.parse of a megabyte of `[` takes most of a second, superjson
 * and copy-anything recurse) and fails later where a database has a limit of its own
 * (SQLite's JSON functions stop at 1,000 levels).
 */
export const MAX_INPUT_DEPTH = 100;

const badRequest = (message: string) => new TRPCError({ code: "BAD_REQUEST", message });

/**
 * Whether JSON text nests arrays and objects deeper than `max`, without parsing it:
 * brackets inside strings do not count. Malformed text is left to the parser.
 */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}

/** A BAD_REQUEST for input text nested deeper than MAX_INPUT_DEPTH, or null when it may be parsed. */
export function inputDepthError(text: string | null): TRPCError | null {
  return text !== null && jsonNestsDeeperThan(text, MAX_INPUT_DEPTH) ? badRequest(`input is nested deeper than ${MAX_INPUT_DEPTH} levels`) : null;
}

/** The value types superjson may restore in an input; classes, symbols and custom types are not registered here. */
const VALUE_TYPES = new Set(["undefined", "bigint", "number", "Date", "regexp", "set", "map", "Error", "URL"]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * superjson's `meta.values` is a tree: a node is `[type]`, `[type, { path: node }]` or
 * `{ path: node }`. Anything else sends superjson into endless recursion (a string is
 * walked character by character, each a string again), so the shape is checked first,
 * without recursion.
 */
function checkValueAnnotations(values: unknown): void {
  const pending: unknown[] = [values];
  while (pending.length > 0) {
    const node = pending.pop();
    if (Array.isArray(node)) {
      const [type, children, ...rest] = node as unknown[];
      if (rest.length > 0 || typeof type !== "string" || !VALUE_TYPES.has(type)) {
        throw badRequest(`input: superjson meta.values names no type this server restores (${JSON.stringify(type)?.slice(0, 40)})`);
      }
      if (children === undefined) continue;
      if (!isRecord(children)) throw badRequest("input: superjson meta.values is malformed");
      pending.push(...Object.values(children));
    } else if (isRecord(node)) pending.push(...Object.values(node));
    else throw badRequest("input: superjson meta.values is malformed");
  }
}

/**
 * The server side of the input transformer: superjson's format, checked. An input is
 * `{ json, meta? }` (what tRPC's clients send with superjson); `meta.values` must be
 * well-formed and name only plain value types. `meta.referentialEqualities` is ignored:
 * superjson writes every shared object out in full in `json` anyway, and honouring it lets a
 * small request build a cycle or an exponentially large value.
 */
export function deserializeInput(payload: unknown): unknown {
  if (!isRecord(payload)) throw badRequest("input: expected a superjson object { json, meta? }");
  const extra = Object.keys(payload).filter((k) => k !== "json" && k !== "meta");
  if (extra.length > 0) throw badRequest(`input: expected a superjson object { json, meta? }, not keys ${extra.slice(0, 5).join(", ")}`);
  const { json, meta } = payload;
  if (meta === undefined || meta === null) return json;
  if (!isRecord(meta)) throw badRequest("input: superjson meta must be an object");
  const { values, v } = meta;
  if (v !== undefined && typeof v !== "number") throw badRequest("input: superjson meta.v must be a number");
  if (values === undefined) return json;
  checkValueAnnotations(values);
  try {
    // In place: the value was parsed for this call alone.
    return superjson.deserialize({ json: json as never, meta: { values: values as never, v } }, { inPlace: true });
  } catch {
    throw badRequest("input: superjson meta.values does not fit the value");
  }
}

/** tRPC's input transformer: superjson, with inputs checked as above. */
export const inputTransformer = { serialize: (value: unknown) => superjson.serialize(value), deserialize: deserializeInput };
