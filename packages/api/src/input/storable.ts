import { badRequest } from "../errors.js";
import { storableText } from "@agentboard/text";

/** Deeper than any input of the API needs (event payloads included). */
const MAX_DEPTH = 64;

/**
 * The raw input (after superjson) with every string made storable. Unchanged parts are
 * returned as they are, so the hot paths copy nothing. A `__proto__` key is refused: no
 * input needs one, and code that copies objects would turn it into a prototype.
 */
export function storableInput(value: unknown): unknown {
  return walk(value, [], 0);
}

function walk(value: unknown, path: (string | number)[], depth: number): unknown {
  if (typeof value === "string") return storableText(value);
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DEPTH) throw badRequest(`input is nested more than ${MAX_DEPTH} levels deep`, path.join("."));
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    value.forEach((item, i) => {
      const next = walk(item, [...path, i], depth + 1);
      if (next !== item) (out ??= [...value])[i] = next;
    });
    return out ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // Date, Map, Set, bigint wrappers from superjson
  let changed = false;
  const entries = Object.entries(value).map(([key, item]): [string, unknown] => {
    if (key === "__proto__") throw badRequest("__proto__ is not allowed as a key", [...path, key].join("."));
    const k = storableText(key);
    const v = walk(item, [...path, key], depth + 1);
    if (k !== key || v !== item) changed = true;
    return [k, v];
  });
  // fromEntries defines own properties: a key such as "constructor" stays plain data.
  return changed ? Object.fromEntries(entries) : value;
}
