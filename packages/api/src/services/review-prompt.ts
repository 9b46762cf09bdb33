/** The message a follow-up made of review comments carries: each comment with its file, line(s) and code. */
export interface CommentForPrompt {
  path: string;
  line: number;
  /** The last line of a range comment; null for one line. */
  endLine: number | null;
  side: "old" | "new";
  body: string;
  author: string;
  /** The lines the comment points at, the commented ones marked with `>`. */
  code: string[];
}

/** `path:line`, or `path:line-endLine` for a range. */
export function whereOf(c: { path: string; line: number; endLine: number | null }): string {
  return c.endLine !== null && c.endLine > c.line ? `${c.path}:${c.line}-${c.endLine}` : `${c.path}:${c.line}`;
}

export function commentsMessage(comments: CommentForPrompt[], note: string): string {
  const n = comments.length;
  const parts = [`A reviewer left ${n} comment${n === 1 ? "" : "s"} on your changes. Address each of them.`];
  comments.forEach((c, i) => {
    const ranged = c.endLine !== null && c.endLine > c.line;
    const where = `${whereOf(c)}${c.side === "old" ? (ranged ? " (removed lines)" : " (a removed line)") : ""}`;
    const code = c.code.length ? `\n\`\`\`\n${c.code.join("\n")}\n\`\`\`` : "";
    parts.push(`${i + 1}. ${where} — ${c.author}:\n${c.body}${code}`);
  });
  if (note.trim()) parts.push(`Note from the reviewer:\n${note.trim()}`);
  return parts.join("\n\n");
}
