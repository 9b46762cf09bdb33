import { TRPCError } from "@trpc/server";

/** How a refused call failed, as a test reads it: the tRPC code and our error's reason, details and fields. */
export interface Failure {
  code: string;
  reason?: string;
  details: Record<string, unknown> | null;
  /** The field a BAD_REQUEST names: the service's `details.field`, or the first zod issue's path. */
  field?: string;
  /** Every zod issue's path, dotted. */
  paths: string[];
}

/** Awaits a call that must fail with a TRPCError and describes the failure (anything else is rethrown). */
export async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    const cause = err.cause as { reason?: string; details?: Record<string, unknown>; issues?: { path: PropertyKey[] }[] } | undefined;
    const paths = (cause?.issues ?? []).map((i) => i.path.map(String).join("."));
    const named = cause?.details?.field;
    return { code: err.code, reason: cause?.reason, details: cause?.details ?? null, field: typeof named === "string" ? named : paths[0], paths };
  }
  throw new Error("expected the call to fail");
}

/** The machine-readable reason of a call that must fail (its tRPC code when it has none). */
export async function reasonOf(p: Promise<unknown>): Promise<string> {
  const f = await failure(p);
  return f.reason ?? f.code;
}
