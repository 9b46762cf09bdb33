/**
 * Inline review comments (docs/review-loop.md): a reviewer's comment on one line of a run's
 * diff, anchored to the run's head commit and the text of the line. On a later run of the
 * thread a comment shows where its line still exists (by its text, nearest to where it
 * was), and as outdated otherwise.
 */
import type { ReviewComment } from "@agentboard/db";
import type { Deps } from "./deps.js";
import { badRequest, forbidden, notFound } from "../errors.js";
import { topics } from "../infra/notifier.js";
import { linesOfDiff, type DiffLine } from "./diff-lines.js";

export interface CommentInput {
  runId: string;
  path: string;
  line: number;
  side: "old" | "new";
  body: string;
}

export async function addComment(deps: Deps, author: string, input: CommentInput) {
  const run = await deps.db.prisma.run.findUnique({
    where: { id: input.runId },
    select: { id: true, cardId: true, boardId: true, diff: true, headCommit: true },
  });
  if (!run) throw notFound("run", input.runId);
  const lines = linesOfDiff(run.diff ?? "", input.path);
  if (lines.length === 0) throw badRequest(`the run's diff does not change ${input.path}`, "path");
  const at = lines.find((l) => l.side === input.side && l.line === input.line);
  if (!at) throw badRequest(`line ${input.line} (${input.side}) of ${input.path} is not in the run's diff`, "line");
  const comment = await deps.db.prisma.reviewComment.create({
    data: {
      runId: run.id,
      cardId: run.cardId,
      commit: run.headCommit,
      path: input.path,
      line: input.line,
      side: input.side,
      lineText: at.text,
      body: input.body,
      author,
    },
  });
  await deps.notifier.publish(topics.board(run.boardId));
  return comment;
}

export interface PlacedComment extends ReviewComment {
  /** Where the comment shows on the asked run's diff; null when outdated. */
  placedLine: number | null;
  outdated: boolean;
}

/** Where a comment's line is in `lines`: the same side and text, nearest to its old place. */
export function place(c: Pick<ReviewComment, "line" | "side" | "lineText">, lines: DiffLine[]): number | null {
  const same = lines.filter((l) => l.side === c.side && l.text === c.lineText);
  if (same.length === 0) return null;
  same.sort((a, b) => Math.abs(a.line - c.line) - Math.abs(b.line - c.line));
  return same[0]?.line ?? null;
}

/** The comments of the run's thread, placed on this run's diff. */
export async function listComments(deps: Deps, runId: string): Promise<PlacedComment[]> {
  const run = await deps.db.prisma.run.findUnique({ where: { id: runId }, select: { id: true, cardId: true, branch: true, diff: true } });
  if (!run) throw notFound("run", runId);
  const comments = await deps.db.prisma.reviewComment.findMany({
    where: { cardId: run.cardId, run: { branch: run.branch } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const byPath = new Map<string, DiffLine[]>();
  const linesOf = (p: string) => {
    let got = byPath.get(p);
    if (!got) byPath.set(p, (got = linesOfDiff(run.diff ?? "", p)));
    return got;
  };
  return comments.map((c) => {
    const placedLine = c.runId === run.id ? c.line : place(c, linesOf(c.path));
    return { ...c, placedLine, outdated: placedLine === null };
  });
}

async function commentOf(deps: Deps, commentId: string) {
  const c = await deps.db.prisma.reviewComment.findUnique({ where: { id: commentId }, include: { run: { select: { boardId: true } } } });
  if (!c) throw notFound("review comment", commentId);
  return c;
}

/** The run a comment belongs to (for authorization). */
export async function commentRunId(deps: Deps, commentId: string): Promise<string> {
  return (await commentOf(deps, commentId)).runId;
}

export async function resolveComment(deps: Deps, actor: string, input: { commentId: string; resolved?: boolean }) {
  const c = await commentOf(deps, input.commentId);
  const resolved = input.resolved ?? true;
  const updated = await deps.db.prisma.reviewComment.update({
    where: { id: c.id },
    data: resolved ? { resolvedAt: new Date(), resolvedBy: actor } : { resolvedAt: null, resolvedBy: null },
  });
  await deps.notifier.publish(topics.board(c.run.boardId));
  return updated;
}

/** Its author, or an admin of the workspace. */
export async function deleteComment(deps: Deps, actor: string, isAdmin: boolean, commentId: string) {
  const c = await commentOf(deps, commentId);
  if (c.author !== actor && !isAdmin) throw forbidden("only the comment's author or an admin may delete it");
  await deps.db.prisma.reviewComment.delete({ where: { id: c.id } });
  await deps.notifier.publish(topics.board(c.run.boardId));
  return { id: c.id, deleted: true };
}
