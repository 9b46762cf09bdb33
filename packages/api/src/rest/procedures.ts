import { z } from "zod";
import { appRouter } from "../root.js";

/** What the REST layer needs to know about a procedure: its type and its input schema. */
interface ProcedureDef {
  type: "query" | "mutation" | "subscription";
  inputs: unknown[];
}

const table = appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef } | undefined>;

export function procedureDef(path: string): ProcedureDef {
  const def = table[path]?._def;
  if (!def) throw new Error(`REST route names an unknown procedure: ${path}`);
  return def;
}

/** The procedure's input schema, or null when it takes none. */
export function inputSchemaOf(path: string): z.ZodType | null {
  const inputs = procedureDef(path).inputs;
  if (inputs.length > 1) throw new Error(`procedure ${path} chains several inputs; the REST facade expects one`);
  const schema = inputs[0];
  if (schema === undefined) return null;
  if (!(schema instanceof z.ZodType)) throw new Error(`procedure ${path} has a non-zod input`);
  return schema;
}

/** The object schemas an input is made of: itself, or each option of a union. */
function objectsOf(schema: z.ZodType): z.ZodObject[] {
  if (schema instanceof z.ZodObject) return [schema];
  if (schema instanceof z.ZodUnion) return (schema.options as z.ZodType[]).flatMap(objectsOf);
  if (schema instanceof z.ZodPipe) return objectsOf(schema.in as z.ZodType);
  throw new Error(`a REST input must be an object or a union of objects, not ${schema.def.type}`);
}

/** The fields named `keys`, from the first object that has each (path parameters). */
export function pickFields(schema: z.ZodType, keys: string[]): z.ZodObject {
  const objects = objectsOf(schema);
  const shape: Record<string, z.ZodType> = {};
  for (const key of keys) {
    const field = objects.find((o) => key in o.shape)?.shape[key];
    if (!field) throw new Error(`path parameter {${key}} is not a field of the procedure's input`);
    shape[key] = field as z.ZodType;
  }
  return z.object(shape);
}

/**
 * The input without the path parameters, for the document's query string or body. Only
 * the document uses this; requests are validated by the procedure's own schema, with its
 * refinements (which a rebuilt object does not carry), after the parameters are merged in.
 */
export function withoutFields(schema: z.ZodType, keys: string[]): z.ZodType {
  if (schema instanceof z.ZodObject) {
    const shape = Object.fromEntries(Object.entries(schema.shape).filter(([k]) => !keys.includes(k))) as Record<string, z.ZodType>;
    return z.object(shape);
  }
  if (schema instanceof z.ZodDiscriminatedUnion) {
    const options = (schema.options as z.ZodType[]).map((o) => withoutFields(o, keys)) as [z.ZodObject, ...z.ZodObject[]];
    return z.discriminatedUnion(schema.def.discriminator, options);
  }
  if (schema instanceof z.ZodUnion) {
    return z.union((schema.options as z.ZodType[]).map((o) => withoutFields(o, keys)));
  }
  if (schema instanceof z.ZodPipe) return withoutFields(schema.in as z.ZodType, keys);
  throw new Error(`a REST input must be an object or a union of objects, not ${schema.def.type}`);
}
