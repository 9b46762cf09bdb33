/**
 * The lines of one file in a unified diff, numbered as a reviewer sees them: a removed line
 * by its number in the old version (side `old`), an added or unchanged line by its number
 * in the new version (side `new`). Review comments are anchored to these.
 */
export interface DiffLine {
  side: "old" | "new";
  line: number;
  kind: "add" | "del" | "context";
  text: string;
}

/** Splits a unified diff (`git diff`) into its files' sections, keyed by the new path (the old one for deletions). */
export function fileSections(diff: string): Map<string, string[]> {
  const files = new Map<string, string[]>();
  let current: string[] | null = null;
  let oldPath = "";
  for (const line of diff.split("\n")) {
    if (line.startsWith("diff --git ")) {
      current = [];
      oldPath = "";
      continue;
    }
    if (!current) continue;
    if (line.startsWith("--- ")) {
      oldPath = line.slice(4).replace(/^a\//, "");
      continue;
    }
    if (line.startsWith("+++ ")) {
      const newPath = line.slice(4).replace(/^b\//, "");
      files.set(newPath === "/dev/null" ? oldPath : newPath, current);
      continue;
    }
    current.push(line);
  }
  return files;
}

export function linesOfDiff(diff: string, path: string): DiffLine[] {
  const body = fileSections(diff).get(path) ?? [];
  const out: DiffLine[] = [];
  let oldNo = 0;
  let newNo = 0;
  for (const line of body) {
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (hunk) {
      oldNo = Number(hunk[1]);
      newNo = Number(hunk[2]);
      continue;
    }
    if (oldNo === 0 && newNo === 0) continue;
    if (line.startsWith("+")) out.push({ side: "new", line: newNo++, kind: "add", text: line.slice(1) });
    else if (line.startsWith("-")) out.push({ side: "old", line: oldNo++, kind: "del", text: line.slice(1) });
    else if (line.startsWith(" ")) {
      out.push({ side: "new", line: newNo, kind: "context", text: line.slice(1) });
      oldNo++;
      newNo++;
    }
  }
  return out;
}
