/**
 * What a file write or edit would change, for the person asked to approve it: a unified
 * diff against the file as it is (or the new content of a new file), bounded in size.
 */
import { createPatch } from "diff";
import type { ApprovalSubject } from "../types.js";

/** Longest preview sent with a request; the rest is cut (and marked truncated). */
export const MAX_PREVIEW_CHARS = 32 * 1024;

function bounded(text: string): { preview: string; truncated: boolean } {
  if (text.length <= MAX_PREVIEW_CHARS) return { preview: text, truncated: false };
  return { preview: `${text.slice(0, MAX_PREVIEW_CHARS)}\n… [preview cut: ${text.length - MAX_PREVIEW_CHARS} more characters]`, truncated: true };
}

/** `before` null: the file does not exist yet. */
export function changePreview(
  rel: string,
  before: string | null,
  after: string,
  action: "create" | "overwrite" | "edit",
): Extract<ApprovalSubject, { kind: "write" }> {
  const text = before === null ? after : createPatch(rel, before, after, "", "", { context: 3 });
  return { kind: "write", path: rel, action, ...bounded(text) };
}
