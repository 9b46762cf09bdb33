/** The message a follow-up made of review comments carries: each comment with its file, line and code. */
export interface CommentForPrompt {
  path: string;
  line: number;
  side: "old" | "new";
  body: string;
  author: string;
  /** The lines the comment points at, the commented one marked with `>`. */
  code: string[];
}

export function commentsMessage(comments: CommentForPrompt[], note: string): string {
  const n = comments.length;
  const parts = [`A reviewer left ${n} comment${n === 1 ? "" : "s"} on your changes. Address each of them.`];
  comments.forEach((c, i) => {
    const where = `${c.path}:${c.line}${c.side === "old" ? " (a removed line)" : ""}`;
    const code = c.code.length ? `\n\`\`\`\n${c.code.join("\n")}\n\`\`\`` : "";
    parts.push(`${i + 1}. ${where} — ${c.author}:\n${c.body}${code}`);
  });
  if (note.trim()) parts.push(`Note from the reviewer:\n${note.trim()}`);
  return parts.join("\n\n");
}
