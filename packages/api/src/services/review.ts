/**
 * Inline review comments (docs/review-loop.md): a reviewer's comment on one line, or a range
 * of lines, of a run's diff, anchored to the run's head commit and the text of its lines. On
 * a later run of the thread a comment shows where its lines still exist, all of them
 * unchanged and in a row (by their text, nearest to where they were), and as outdated
 * otherwise: a range is outdated as soon as any of its lines changed.
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
  /** The last line of a range (same side, ≥ line); absent or equal to `line` for one line. */
  endLine?: number | undefined;
  side: "old" | "new";
  body: string;
}

/** The most lines one comment may cover. */
export const MAX_RANGE_LINES = 500;

export async function addComment(deps: Deps, author: string, input: CommentInput) {
  const run = await deps.db.prisma.run.findUnique({
    where: { id: input.runId },
    select: { id: true, cardId: true, boardId: true, diff: true, headCommit: true },
  });
  if (!run) throw notFound("run", input.runId);
  const lines = linesOfDiff(run.diff ?? "", input.path);
  if (lines.length === 0) throw badRequest(`the run's diff does not change ${input.path}`, "path");
  const side = lines.filter((l) => l.side === input.side);
  const start = side.findIndex((l) => l.line === input.line);
  if (start < 0) throw badRequest(`line ${input.line} (${input.side}) of ${input.path} is not in the run's diff`, "line");
  const endLine = input.endLine !== undefined && input.endLine !== input.line ? input.endLine : null;
  let covered = [side[start]!];
  if (endLine !== null) {
    if (endLine < input.line) throw badRequest("endLine must not be before line", "endLine");
    if (endLine - input.line + 1 > MAX_RANGE_LINES) throw badRequest(`a comment covers at most ${MAX_RANGE_LINES} lines`, "endLine");
    covered = side.slice(start, start + (endLine - input.line + 1));
    // Every line of the range is in the diff, in a row (no gap between hunks).
    const whole = covered.length === endLine - input.line + 1 && covered.every((l, i) => l.line === input.line + i);
    if (!whole) throw badRequest(`lines ${input.line}-${endLine} (${input.side}) of ${input.path} are not all in the run's diff`, "endLine");
  }
  const comment = await deps.db.prisma.reviewComment.create({
    data: {
      runId: run.id,
      cardId: run.cardId,
      commit: run.headCommit,
      path: input.path,
      line: input.line,
      endLine,
      side: input.side,
      lineText: covered.map((l) => l.text).join("\n"),
      body: input.body,
      author,
    },
  });
  await deps.notifier.publish(topics.board(run.boardId));
  return comment;
}

export interface PlacedComment extends ReviewComment {
  /** Where the comment (its first line) shows on the asked run's diff; null when outdated. */
  placedLine: number | null;
  /** Where a range comment's last line shows; null for one line or when outdated. */
  placedEndLine: number | null;
  outdated: boolean;
}

/** The texts of the lines a comment covers (one for a single-line comment). */
export function textsOf(c: Pick<ReviewComment, "line" | "endLine" | "lineText">): string[] {
  return c.endLine !== null && c.endLine > c.line ? c.lineText.split("\n") : [c.lineText];
}

/**
 * Where a comment's lines are in `lines`: on the same side, all of its lines with the same
 * text and in a row (consecutive numbers), the nearest to its old place. Null when any line
 * of the range changed or is no longer in the diff.
 */
export function place(c: Pick<ReviewComment, "line" | "endLine" | "side" | "lineText">, lines: DiffLine[]): number | null {
  const texts = textsOf(c);
  const side = lines.filter((l) => l.side === c.side);
  let best: number | null = null;
  for (let i = 0; i + texts.length <= side.length; i++) {
    const first = side[i]!;
    const fits = texts.every((t, k) => {
      const l = side[i + k]!;
      return l.text === t && l.line === first.line + k;
    });
    if (fits && (best === null || Math.abs(first.line - c.line) < Math.abs(best - c.line))) best = first.line;
  }
  return best;
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
    const placedEndLine = placedLine !== null && c.endLine !== null ? placedLine + (c.endLine - c.line) : null;
    return { ...c, placedLine, placedEndLine, outdated: placedLine === null };
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
