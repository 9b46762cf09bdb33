import { TRPCClientError } from "@trpc/client";
import { toast } from "sonner";

interface ErrorData {
  code?: string;
  reason?: string;
  httpStatus?: number;
  issues?: { path: string; message: string }[] | null;
  details?: unknown;
}

function dataOf(err: unknown): ErrorData | undefined {
  return err instanceof TRPCClientError ? (err.data as ErrorData | undefined) : undefined;
}

/** A sentence for a person: field issues for bad input, the server's message otherwise. */
export function errorMessage(err: unknown): string {
  const data = dataOf(err);
  if (data?.issues?.length) return data.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  if (err instanceof Error && err.message) return err.message;
  return "Something went wrong";
}

export function errorReason(err: unknown): string | undefined {
  return dataOf(err)?.reason;
}

export function isNotFound(err: unknown): boolean {
  return dataOf(err)?.code === "NOT_FOUND";
}

export function toastError(title: string) {
  return (err: unknown) => {
    toast.error(title, { description: errorMessage(err) });
  };
}

/** The server's machine-readable details of a domain error (`error.data.details`), unchecked. */
export function errorDetails(err: unknown): unknown {
  return dataOf(err)?.details ?? null;
}
