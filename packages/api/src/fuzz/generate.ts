import { z } from "zod";

/**
 * Bad inputs for a procedure, generated from its zod schema (through its JSON Schema): a
 * plausible base input (ids taken from real fixtures by field name), then, for every field
 * at every depth, the field missing and replaced by values of the wrong type, past its
 * bounds, with NUL and lone surrogates, huge, and objects with prototype keys; and whole
 * inputs that are not objects at all. Values superjson can carry (Date, bigint, NaN,
 * Infinity, undefined, Map, Set, RegExp) are among them.
 */
type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
};

export type Path = (string | number)[];
export interface FuzzCase {
  label: string;
  input: unknown;
}

export function jsonSchemaOf(schema: z.ZodType | undefined): Schema | null {
  if (!schema) return null;
  return z.toJSONSchema(schema, { unrepresentable: "any", io: "input" }) as Schema;
}

/** A value that the field's schema probably accepts: real ids by name, else the simplest of its type. */
export function plausible(schema: Schema, name: string, fixtures: Record<string, string>): unknown {
  if (name in fixtures) return fixtures[name];
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants) return plausible(variants.find((v) => v.type !== "null") ?? variants[0]!, name, fixtures);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "string":
      return schema.format === "date-time" ? new Date() : "a".repeat(Math.max(1, schema.minLength ?? 1));
    case "integer":
    case "number":
      return Math.max(schema.minimum ?? 1, Math.min(1, schema.maximum ?? 1));
    case "boolean":
      return true;
    case "array":
      return [];
    case "object": {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) out[key] = plausible(schema.properties?.[key] ?? {}, key, fixtures);
      return out;
    }
    default:
      return undefined;
  }
}

const HUGE = "x".repeat(300_000);

/** Replacements for a field, chosen by what its schema says it is. */
function badValues(schema: Schema): [string, unknown][] {
  const values: [string, unknown][] = [
    ["null", null],
    ["undefined", undefined],
    ["true", true],
    ["empty array", []],
    ["empty object", {}],
    ["__proto__ object", JSON.parse('{"__proto__": {"polluted": true}}')],
    ["constructor object", { constructor: { prototype: { polluted: true } } }],
    ["Date", new Date()],
    ["invalid Date", new Date(Number.NaN)],
    ["bigint 2^70", 2n ** 70n],
    ["Map", new Map([["k", "v"]])],
    ["Set", new Set([1])],
    ["RegExp", /x/],
  ];
  const type = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (!type.includes("string")) values.push(["string", "text"], ["NUL string", "a\u0000b"]);
  if (type.includes("string") || type.includes(undefined)) {
    values.push(
      ["empty string", ""],
      ["NUL", "\u0000"],
      ["text with NUL", "a\u0000b"],
      ["lone high surrogate", "a\ud800b"],
      ["lone low surrogate", "\udc00"],
      ["over maxLength", "y".repeat((schema.maxLength ?? 10_000) + 1)],
      ["huge string", HUGE],
      ["path traversal", "../../../../etc/passwd"],
      ["number", 42],
    );
  }
  if (type.includes("integer") || type.includes("number") || type.includes(undefined)) {
    values.push(
      ["0", 0],
      ["-1", -1],
      ["fraction", 1.5],
      ["2^31", 2 ** 31],
      ["2^53", 2 ** 53],
      ["-2^63", -(2 ** 63)],
      ["1e308", 1e308],
      ["NaN", Number.NaN],
      ["Infinity", Number.POSITIVE_INFINITY],
      ["-0", -0],
      ["numeric string", "12"],
    );
    if (schema.maximum !== undefined) values.push(["max + 1", schema.maximum + 1]);
    if (schema.minimum !== undefined) values.push(["min - 1", schema.minimum - 1]);
  }
  if (type.includes("array")) values.push(["array of NUL", ["\u0000"]], ["huge array", Array.from({ length: 10_001 }, () => "a")]);
  return values;
}

function setAt(root: unknown, path: Path, value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  const copy = (Array.isArray(root) ? [...(root as unknown[])] : { ...(root as object) }) as Record<string | number, unknown>;
  const [head, ...rest] = path as [string | number, ...Path];
  if (rest.length === 0) {
    if (remove) delete copy[head];
    else copy[head] = value;
  } else {
    copy[head] = setAt(copy[head] ?? {}, rest, value, remove);
  }
  return copy;
}

/** Fields of a schema at every depth (objects and the first item of arrays), with their schemas. */
function fieldsOf(schema: Schema, path: Path = [], depth = 0): [Path, Schema, string][] {
  if (depth > 3) return [];
  const out: [Path, Schema, string][] = [];
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants) return variants.flatMap((v) => fieldsOf(v, path, depth));
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    out.push([[...path, key], sub, key]);
    out.push(...fieldsOf(sub, [...path, key], depth + 1));
  }
  if (schema.items) out.push(...fieldsOf(schema.items, [...path, 0], depth + 1));
  return out;
}

export function fuzzCases(schema: Schema | null, fixtures: Record<string, string>): { base: unknown; cases: FuzzCase[] } {
  const base = schema ? plausible(schema, "", fixtures) : undefined;
  const cases: FuzzCase[] = [
    { label: "no input", input: undefined },
    { label: "null input", input: null },
    { label: "array input", input: [base] },
    { label: "string input", input: "\u0000" },
    { label: "number input", input: 2 ** 31 },
    { label: "__proto__ beside the base", input: Object.assign(JSON.parse('{"__proto__": {"polluted": true}}') as object, base) },
  ];
  if (!schema) return { base, cases };
  for (const [path, sub] of fieldsOf(schema)) {
    const where = path.join(".");
    cases.push({ label: `${where} missing`, input: setAt(base, path, undefined, true) });
    for (const [what, value] of badValues(sub)) cases.push({ label: `${where} = ${what}`, input: setAt(base, path, value, false) });
  }
  return { base, cases };
}
