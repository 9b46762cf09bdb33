import { openApiDocument, pathParams, REST_BASE } from "./document.js";
import { inputSchemaOf, procedureDef } from "./procedures.js";
import { restRoutes, type RestRoute } from "./routes.js";

/** A route of the table, ready to answer: its matcher and how to read its query string. */
export interface CompiledRoute {
  route: RestRoute;
  type: "query" | "mutation";
  pattern: RegExp;
  params: string[];
  /** Whether the procedure takes an input (a few, like `token.whoami`, take none). */
  hasInput: boolean;
  /** Query parameter → the JSON types its schema allows (from the OpenAPI document). */
  query: Map<string, { kinds: Set<string>; itemKinds: Set<string> }>;
}

interface JsonSchema {
  type?: string | string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  $ref?: string;
}

function kindsOf(schema: JsonSchema | undefined, components: Record<string, JsonSchema>, out = new Set<string>()): Set<string> {
  if (!schema) return out;
  if (schema.$ref) return kindsOf(components[schema.$ref.split("/").pop() ?? ""], components, out);
  for (const t of Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []) out.add(t);
  for (const s of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) kindsOf(s, components, out);
  return out;
}

function itemsOf(schema: JsonSchema | undefined, components: Record<string, JsonSchema>): JsonSchema[] {
  if (!schema) return [];
  if (schema.$ref) return itemsOf(components[schema.$ref.split("/").pop() ?? ""], components);
  return [...(schema.items ? [schema.items] : []), ...[...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].flatMap((s) => itemsOf(s, components))];
}

export function compileRoutes(): CompiledRoute[] {
  const doc = openApiDocument() as unknown as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema?: JsonSchema }[] }>>;
    components?: { schemas?: Record<string, JsonSchema> };
  };
  const components = doc.components?.schemas ?? {};
  return restRoutes.map((route) => {
    const def = procedureDef(route.procedure);
    if (def.type === "subscription") throw new Error(`REST route ${route.path} names a subscription`);
    const params = pathParams(route.path);
    const source = route.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[A-Za-z]+\\?\}/g, "([^/]+)");
    const query = new Map<string, { kinds: Set<string>; itemKinds: Set<string> }>();
    for (const p of doc.paths[route.path]?.[route.method.toLowerCase()]?.parameters ?? []) {
      if (p.in !== "query") continue;
      const itemKinds = new Set<string>();
      for (const item of itemsOf(p.schema, components)) kindsOf(item, components, itemKinds);
      query.set(p.name, { kinds: kindsOf(p.schema, components), itemKinds });
    }
    return { route, type: def.type, hasInput: inputSchemaOf(route.procedure) !== null, pattern: new RegExp(`^${REST_BASE}${source}$`), params, query };
  });
}

function scalar(value: string, kinds: Set<string>): unknown {
  if (kinds.has("string")) return value;
  if ((kinds.has("integer") || kinds.has("number")) && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  if (kinds.has("boolean") && (value === "true" || value === "false")) return value === "true";
  // Left as text: the procedure's schema rejects it with the field's own message.
  return value;
}

/**
 * The query string as the procedure's input expects it: numbers and booleans typed, a
 * parameter given several times (or of an array type) as an array. Unknown parameters are
 * passed as text and dropped by the procedure's schema.
 */
export function queryInput(search: URLSearchParams, route: CompiledRoute): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of new Set(search.keys())) {
    const values = search.getAll(name);
    const spec = route.query.get(name);
    if (!spec) {
      out[name] = values.length > 1 ? values : values[0];
      continue;
    }
    const scalarAllowed = [...spec.kinds].some((k) => k !== "array");
    if (spec.kinds.has("array") && (values.length > 1 || !scalarAllowed)) out[name] = values.map((v) => scalar(v, spec.itemKinds));
    else out[name] = scalar(values[0] ?? "", spec.kinds);
  }
  return out;
}
