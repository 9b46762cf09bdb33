"use client";

import { memo, useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Diff, getChangeKey, Hunk, markEdits, parseDiff, tokenize, type ChangeData, type FileData, type GutterOptions, type HunkData } from "react-diff-view";
import { cn } from "@/components/ui/cn";
import { diffHighlighter, languageOf } from "./highlight";
import { LineComments, OutdatedComments, type DiffReview, type LineRef, type ReviewComment } from "./review-comments";

/** Files with more changed lines than this open collapsed; highlighting happens on open. */
const OPEN_UP_TO_LINES = 600;

interface FileStat {
  file: FileData;
  path: string;
  additions: number;
  deletions: number;
}

function statOf(file: FileData): FileStat {
  let additions = 0;
  let deletions = 0;
  for (const h of file.hunks) {
    for (const c of h.changes) {
      if (c.type === "insert") additions++;
      else if (c.type === "delete") deletions++;
    }
  }
  const path = file.type === "delete" ? file.oldPath : file.newPath;
  return { file, path, additions, deletions };
}

/** The lines between two of one side, in order. */
function rangeOf(from: LineRef, to: LineRef): LineRef {
  return { path: to.path, side: to.side, line: Math.min(from.line, to.line), endLine: Math.max(from.line, to.line) };
}

/** A change's line as review comments name it: added and unchanged lines by their new number, removed ones by their old. */
function lineOf(change: ChangeData): { side: "old" | "new"; line: number } {
  if (change.type === "insert") return { side: "new", line: change.lineNumber };
  if (change.type === "delete") return { side: "old", line: change.lineNumber };
  return { side: "new", line: change.newLineNumber };
}

/**
 * The run's diff: a file list with counts, and each file with syntax highlighting. With
 * `review`, clicking a line's number opens a comment box under it; shift-clicking a second
 * line's number on the same side (or Shift+Enter on it), or dragging from one line's number
 * to another's, selects the range between and opens the box under its last line. The thread's comments show under their (last) lines, outdated
 * ones above the files.
 */
export function DiffViewer({ diff, review }: { diff: string; review?: DiffReview }) {
  const files = useMemo(() => {
    try {
      return parseDiff(diff, { nearbySequences: "zip" }).map(statOf);
    } catch {
      return null;
    }
  }, [diff]);
  const [view, setView] = useState<"unified" | "split">("unified");

  if (!files) return <pre className="overflow-auto p-4 font-mono text-xs">{diff}</pre>;
  if (files.length === 0) return <p className="p-4 text-sm text-zinc-500">The diff is empty.</p>;
  const totals = files.reduce((t, f) => ({ a: t.a + f.additions, d: t.d + f.deletions }), { a: 0, d: 0 });
  return (
    <div className="grid gap-4 lg:grid-cols-[16rem_1fr]" data-testid="diff-viewer">
      <nav aria-label="Changed files" className="lg:sticky lg:top-14 lg:self-start">
        <p className="mb-2 text-xs text-zinc-500">
          {files.length === 1 ? "1 file" : `${files.length} files`} · <span className="text-emerald-600">+{totals.a}</span>{" "}
          <span className="text-red-600">−{totals.d}</span>
        </p>
        <ul className="space-y-0.5 text-xs" data-testid="diff-files">
          {files.map((f, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a path can be listed twice (a type change is a delete and an add); the list is fixed per diff.
            <li key={`${f.path}-${i}`}>
              <a href={`#diff-file-${i}`} className="flex items-center gap-2 rounded px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-800">
                <span
                  className={cn("w-3 font-mono", f.file.type === "add" ? "text-emerald-600" : f.file.type === "delete" ? "text-red-600" : "text-amber-600")}
                  role="img"
                  aria-label={f.file.type}
                >
                  {f.file.type === "add" ? "A" : f.file.type === "delete" ? "D" : f.file.type === "rename" ? "R" : "M"}
                </span>
                <span className="min-w-0 flex-1 truncate font-mono" title={f.path}>
                  {f.path}
                </span>
                <span className="text-emerald-600">+{f.additions}</span>
                <span className="text-red-600">−{f.deletions}</span>
              </a>
            </li>
          ))}
        </ul>
        {/* biome-ignore lint/a11y/useSemanticElements: two toggle buttons, not form fields: a fieldset would say otherwise. */}
        <div className="mt-3 flex gap-1 text-xs" role="group" aria-label="Diff layout">
          {(["unified", "split"] as const).map((v) => (
            <button
              key={v}
              type="button"
              aria-pressed={view === v}
              onClick={() => setView(v)}
              className={cn("rounded px-2 py-1", view === v ? "bg-zinc-200 dark:bg-zinc-700" : "hover:bg-zinc-100 dark:hover:bg-zinc-800")}
            >
              {v}
            </button>
          ))}
        </div>
      </nav>
      <div className="min-w-0 space-y-4">
        {review ? <OutdatedComments comments={review.comments} review={review} /> : null}
        {files.map((f, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a path can be listed twice (a type change is a delete and an add); the list is fixed per diff.
          <FileDiff key={`${f.path}-${i}`} index={i} stat={f} view={view} review={review} />
        ))}
      </div>
    </div>
  );
}

const FileDiff = memo(function FileDiff({ index, stat, view, review }: { index: number; stat: FileStat; view: "unified" | "split"; review?: DiffReview }) {
  const [open, setOpen] = useState(stat.additions + stat.deletions <= OPEN_UP_TO_LINES);
  const { file, path } = stat;
  return (
    <section id={`diff-file-${index}`} aria-label={path} className="overflow-hidden rounded-lg ring-1 ring-zinc-200 dark:ring-zinc-800">
      <header className="flex items-center gap-2 bg-zinc-50 px-3 py-2 text-xs dark:bg-zinc-900">
        <button
          type="button"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
          className="font-mono"
          aria-label={open ? `Collapse ${path}` : `Expand ${path}`}
        >
          {open ? "▾" : "▸"}
        </button>
        <span className="font-mono font-medium">{file.type === "rename" ? `${file.oldPath} → ${file.newPath}` : path}</span>
        <span className="ml-auto text-emerald-600">+{stat.additions}</span>
        <span className="text-red-600">−{stat.deletions}</span>
      </header>
      {open ? (
        file.isBinary ? (
          <p className="p-3 text-xs text-zinc-500">Binary file</p>
        ) : (
          <FileHunks hunks={file.hunks} path={path} view={view} type={file.type} review={review} />
        )
      ) : null}
    </section>
  );
});

function FileHunks({
  hunks,
  path,
  view,
  type,
  review,
}: {
  hunks: HunkData[];
  path: string;
  view: "unified" | "split";
  type: FileData["type"];
  review?: DiffReview;
}) {
  const [draft, setDraft] = useState<LineRef | null>(null);
  // The line a range starts from: the last line whose number was clicked without Shift, or
  // where a drag started.
  const anchor = useRef<LineRef | null>(null);
  const pick = useCallback((at: LineRef, extend: boolean) => {
    const from = anchor.current;
    if (extend && from && from.side === at.side && from.line !== at.line) {
      setDraft(rangeOf(from, at));
      return;
    }
    anchor.current = at;
    setDraft(at);
  }, []);
  // Dragging from one line number to another on the same side selects the range too.
  const dragFrom = useRef<LineRef | null>(null);
  useEffect(() => {
    const end = () => {
      dragFrom.current = null;
    };
    window.addEventListener("mouseup", end);
    return () => window.removeEventListener("mouseup", end);
  }, []);
  const dragOver = useCallback((at: LineRef, buttons: number) => {
    const from = dragFrom.current;
    if (!from || (buttons & 1) === 0 || from.side !== at.side || from.line === at.line) return;
    anchor.current = from;
    setDraft(rangeOf(from, at));
  }, []);
  const widgets = useMemo(() => {
    if (!review) return undefined;
    const here = review.comments.filter((c) => c.path === path && !c.outdated && c.placedLine !== null);
    const out: Record<string, ReactNode> = {};
    for (const h of hunks) {
      for (const change of h.changes) {
        const at = { path, ...lineOf(change) };
        const onLine: ReviewComment[] = here.filter((c) => c.side === at.side && (c.placedEndLine ?? c.placedLine) === at.line);
        const composing = draft !== null && draft.side === at.side && (draft.endLine ?? draft.line) === at.line ? draft : null;
        if (onLine.length === 0 && !composing) continue;
        // A new box (focused) whenever the line or range being commented on changes.
        const key = composing ? `draft-${composing.side}-${composing.line}-${composing.endLine ?? ""}` : "comments";
        out[getChangeKey(change)] = <LineComments key={key} at={at} comments={onLine} review={review} composing={composing} onClose={() => setDraft(null)} />;
      }
    }
    return out;
  }, [review, hunks, path, draft]);
  // The lines of the range being commented on, highlighted.
  const selected = useMemo(() => {
    if (!draft || draft.endLine === undefined) return [];
    const last = draft.endLine;
    return hunks.flatMap((h) =>
      h.changes
        .filter((c) => {
          const at = lineOf(c);
          return at.side === draft.side && at.line >= draft.line && at.line <= last;
        })
        .map(getChangeKey),
    );
  }, [hunks, draft]);
  // The line number that names a line (new for added and unchanged lines, old for removed
  // ones) is a button that opens a comment box under the line; with Shift (click, or Enter
  // from the keyboard) it extends the last line picked to a range.
  const renderGutter = useMemo(
    () =>
      review?.canComment
        ? ({ change, side, renderDefault }: GutterOptions) => {
            const at = lineOf(change);
            if (side !== at.side) return renderDefault();
            const ref = { path, ...at };
            return (
              <button
                type="button"
                className="w-full text-right hover:text-sky-600 hover:underline"
                aria-label={`Comment on ${path} line ${at.line}${at.side === "old" ? " (removed)" : ""}`}
                aria-keyshortcuts="Shift+Enter"
                title="Click to comment; Shift-click another line, or drag, to comment on a range"
                onClick={(e) => pick(ref, e.shiftKey)}
                onMouseDown={(e) => {
                  if (e.button === 0 && !e.shiftKey) dragFrom.current = ref;
                }}
                onMouseEnter={(e) => dragOver(ref, e.buttons)}
                onKeyDown={(e) => {
                  if (e.key === "Enter" && e.shiftKey) {
                    e.preventDefault();
                    pick(ref, true);
                  }
                }}
              >
                {renderDefault()}
              </button>
            );
          }
        : undefined,
    [review?.canComment, path, pick, dragOver],
  );
  const tokens = useMemo(() => {
    const language = languageOf(path);
    try {
      const enhancers = [markEdits(hunks, { type: "block" })];
      return language ? tokenize(hunks, { highlight: true, refractor: diffHighlighter, language, enhancers }) : tokenize(hunks, { enhancers });
    } catch {
      // A grammar that chokes on a fragment must not take the page down: show it plain.
      return undefined;
    }
  }, [hunks, path]);
  return (
    <div className="overflow-x-auto">
      <Diff viewType={view} diffType={type} hunks={hunks} tokens={tokens} widgets={widgets} renderGutter={renderGutter} selectedChanges={selected}>
        {(hs) => hs.map((h) => <Hunk key={h.content} hunk={h} />)}
      </Diff>
    </div>
  );
}
