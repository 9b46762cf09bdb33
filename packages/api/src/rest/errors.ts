import { getTRPCErrorFromUnknown, getTRPCErrorShape, TRPCError } from "@trpc/server";
import { type Context, rootConfig as config } from "../trpc.js";

/** The one error body of the REST API (documented as the `Error` schema). */
export interface RestErrorBody {
  error: { code: string; reason: string; message: string; field?: string; details?: Record<string, unknown> };
}

interface FormattedData {
  code: string;
  httpStatus: number;
  reason: string;
  details: Record<string, unknown> | null;
  fieldErrors: Record<string, string[] | undefined> | null;
  issues: { path: string; message: string }[] | null;
}

/**
 * A procedure's error as REST sends it. It goes through tRPC's own error shape, i.e. the
 * router's one error formatter (`trpc.ts`), so a reason, its details and the HTTP status
 * are exactly what a tRPC client gets; only the envelope differs.
 */
export function restError(
  cause: unknown,
  at: { ctx?: Context; input?: unknown; path: string; type: "query" | "mutation" | "subscription" },
): { status: number; body: RestErrorBody; error: TRPCError } {
  const error = getTRPCErrorFromUnknown(cause);
  const shape = getTRPCErrorShape({ config, ctx: at.ctx, error, input: at.input, path: at.path, type: at.type });
  const data = shape.data as unknown as FormattedData;
  const issue = data.issues?.[0];
  const detailField = typeof data.details?.field === "string" ? data.details.field : undefined;
  const field = issue ? issue.path || undefined : detailField;
  const message = issue ? `${issue.path ? `${issue.path}: ` : ""}${issue.message}` : shape.message;
  const details = data.details ?? (data.issues && data.issues.length > 1 ? { issues: data.issues } : undefined);
  return {
    status: data.httpStatus,
    error,
    body: { error: { code: data.code, reason: data.reason, message, ...(field ? { field } : {}), ...(details ? { details } : {}) } },
  };
}

/** An error of the HTTP layer itself (no such path, a body that is not JSON), in the same shape. */
export function httpError(status: number, code: string, message: string): { status: number; body: RestErrorBody } {
  return { status, body: { error: { code, reason: code, message } } };
}

export const badJson = (message: string) => new TRPCError({ code: "BAD_REQUEST", message: `the body is not JSON: ${message}` });
