import type { Dirent } from "node:fs";
import { lstat, open, readdir, readlink, stat } from "node:fs/promises";
import path from "node:path";
import picomatch from "picomatch";
import { z } from "zod";
import { throwIfAborted } from "../abort.js";
import { defineTool, type ToolContext } from "./define.js";
import { displayPath, resolveInWorkspace } from "./paths.js";
import { ToolError } from "./tool-error.js";

/** Where the worktree is no git repository: directories never worth walking (VCS data, installed dependencies). */
const SKIPPED_DIRS = new Set([".git", "node_modules"]);
const MAX_SEARCH_FILE_BYTES = 2 * 1024 * 1024;
const MAX_LINE_CHARS = 300;

interface WalkEntry {
  abs: string;
  dirent: Dirent;
}

/**
 * Depth-first walk that never follows symlinks (a link may point outside the worktree)
 * and skips SKIPPED_DIRS. Entries come sorted by name within each directory.
 */
async function* walk(dir: string, signal: AbortSignal): AsyncGenerator<WalkEntry> {
  throwIfAborted(signal);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const dirent of entries) {
    const abs = path.join(dir, dirent.name);
    yield { abs, dirent };
    if (dirent.isDirectory() && !SKIPPED_DIRS.has(dirent.name)) yield* walk(abs, signal);
  }
}

/** Compares relative paths segment by segment: a directory's entries sort right after it, as a walk gives them. */
function byPathSegments(a: string, b: string): number {
  const sa = a.split("/");
  const sb = b.split("/");
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const x = sa[i] ?? "";
    const y = sb[i] ?? "";
    if (x !== y) return x < y ? -1 : 1;
  }
  return sa.length - sb.length;
}

/**
 * The files below `dir` that git does not ignore: tracked ones plus untracked ones that no
 * `.gitignore` (nor `.git/info/exclude`) excludes, relative to `dir`, sorted as a walk
 * gives them. Null when the worktree is no git repository. git runs through the run's
 * starter, so in its sandbox like every other process of the run; it never looks above
 * the worktree for a repository (GIT_CEILING_DIRECTORIES), and the settings that could
 * make a listing start programs are off.
 */
async function gitListedFiles(dir: string, ctx: ToolContext): Promise<string[] | null> {
  let stdout = "";
  const proc = ctx.starter.start(
    "git",
    // safe.directory: inside a sandbox the checkout may belong to another uid than git's.
    [
      "-c",
      "core.fsmonitor=false",
      "-c",
      "core.hooksPath=/dev/null",
      "-c",
      `safe.directory=${ctx.ws.root}`,
      "ls-files",
      "-z",
      "--cached",
      "--others",
      "--exclude-standard",
      "--",
      ".",
    ],
    {
      cwd: dir,
      signal: ctx.signal,
      env: { GIT_CEILING_DIRECTORIES: path.dirname(ctx.ws.root), GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" },
      onStdout: (text) => {
        stdout += text;
      },
      onStderr: () => undefined,
    },
  );
  const exit = await proc.done.catch(() => null);
  throwIfAborted(ctx.signal);
  if (exit === null || exit.code !== 0) return null;
  // An unmerged path is listed once per stage.
  const files = [...new Set(stdout.split("\0").filter((f) => f !== ""))];
  return files.sort(byPathSegments);
}

/** Files (absolute) below `dir` in walk order: git's listing where there is one, else the walk. */
async function* searchableFiles(dir: string, ctx: ToolContext): AsyncGenerator<string> {
  const listed = await gitListedFiles(dir, ctx);
  if (listed === null) {
    for await (const e of walk(dir, ctx.signal)) if (e.dirent.isFile()) yield e.abs;
    return;
  }
  for (const rel of listed) {
    throwIfAborted(ctx.signal);
    const abs = path.join(dir, rel);
    // Tracked but deleted from the worktree, or a submodule: nothing to read.
    const st = await lstat(abs).catch(() => null);
    if (st?.isFile()) yield abs;
  }
}

/**
 * A glob (picomatch: `*`, `?`, `**`, `{a,b}`, `[abc]`, extglobs) on file names, or on
 * paths relative to the worktree root when it has a '/'. Dotfiles match like any file.
 */
function globMatcher(glob: string): (rel: string) => boolean {
  const onPath = glob.includes("/");
  const isMatch = picomatch(glob, { dot: true });
  return (rel) => isMatch(onPath ? rel : path.posix.basename(rel));
}

async function dirOrThrow(input: string | undefined, ctx: ToolContext): Promise<string> {
  const dir = await resolveInWorkspace(ctx.ws, input ?? ".");
  const st = await stat(dir).catch(() => null);
  if (!st) throw new ToolError(`${displayPath(ctx.ws, dir)}: no such directory`);
  return dir;
}

export const listFilesTool = defineTool({
  name: "list_files",
  description:
    "List the entries of a directory of the worktree (directories end with '/'). With recursive: true, " +
    "list the whole tree below it, leaving out what .gitignore ignores (and .git). Symlinks are shown, not followed.",
  input: z.object({
    path: z.string().optional().describe("Directory relative to the worktree root; default the root"),
    recursive: z.boolean().optional(),
    max_entries: z.number().int().min(1).max(5_000).optional().describe("Default 500"),
  }),
  async run(input, ctx) {
    const dir = await dirOrThrow(input.path, ctx);
    const max = input.max_entries ?? 500;
    const st = await stat(dir);
    if (!st.isDirectory()) return displayPath(ctx.ws, dir);

    const out: string[] = [];
    let more = false;
    const describe = async (e: WalkEntry): Promise<string> => {
      const rel = displayPath(ctx.ws, e.abs);
      if (e.dirent.isDirectory()) return `${rel}/`;
      if (e.dirent.isSymbolicLink()) return `${rel} -> ${await readlink(e.abs).catch(() => "?")}`;
      return rel;
    };
    const listed = input.recursive === true ? await gitListedFiles(dir, ctx) : null;
    if (listed !== null) {
      // git lists files only: their directories are added, each before its entries.
      const entries = new Set<string>();
      for (const rel of listed) {
        const parts = rel.split("/");
        for (let i = 1; i < parts.length; i++) entries.add(`${parts.slice(0, i).join("/")}/`);
        entries.add(rel);
      }
      for (const rel of [...entries].sort((a, b) => byPathSegments(a.replace(/\/$/, ""), b.replace(/\/$/, "")))) {
        if (out.length >= max) {
          more = true;
          break;
        }
        const abs = path.join(dir, rel);
        if (rel.endsWith("/")) {
          out.push(`${displayPath(ctx.ws, abs)}/`);
          continue;
        }
        const st = await lstat(abs).catch(() => null);
        if (!st) continue; // tracked but deleted from the worktree
        out.push(st.isSymbolicLink() ? `${displayPath(ctx.ws, abs)} -> ${await readlink(abs).catch(() => "?")}` : displayPath(ctx.ws, abs));
      }
    } else if (input.recursive === true) {
      for await (const e of walk(dir, ctx.signal)) {
        if (out.length >= max) {
          more = true;
          break;
        }
        out.push(await describe(e));
      }
    } else {
      const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const dirent of entries) {
        if (out.length >= max) {
          more = true;
          break;
        }
        out.push(await describe({ abs: path.join(dir, dirent.name), dirent }));
      }
    }
    if (out.length === 0) return "(empty directory)";
    return more ? `${out.join("\n")}\n… [stopped at ${max} entries]` : out.join("\n");
  },
});

async function readTextFile(file: string): Promise<string | null> {
  const fh = await open(file, "r");
  try {
    const st = await fh.stat();
    if (st.size > MAX_SEARCH_FILE_BYTES) return null;
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    const data = buf.subarray(0, bytesRead);
    if (data.subarray(0, 8192).includes(0)) return null;
    return data.toString("utf8");
  } finally {
    await fh.close();
  }
}

export const searchFilesTool = defineTool({
  name: "search_files",
  description:
    "Search file contents in the worktree (skipping what .gitignore ignores, .git, binary and very large files). " +
    "By default `pattern` is a plain substring; set regex: true for a JavaScript regular expression. " +
    "Returns `path:line: text` for each matching line, at most max_results.",
  input: z.object({
    pattern: z.string().min(1),
    regex: z.boolean().optional(),
    case_insensitive: z.boolean().optional(),
    path: z.string().optional().describe("Directory or file to search in; default the worktree root"),
    glob: z
      .string()
      .min(1)
      .max(1_000)
      .optional()
      .describe(
        "Only files whose name (or path relative to the worktree root, if it has a '/') matches this glob, e.g. *.ts, src/**/*.{ts,tsx} or !(*.test).ts",
      ),
    max_results: z.number().int().min(1).max(1_000).optional().describe("Default 200"),
  }),
  async run(input, ctx) {
    const base = await dirOrThrow(input.path, ctx);
    const max = input.max_results ?? 200;
    let matcher: (line: string) => boolean;
    if (input.regex === true) {
      let re: RegExp;
      try {
        re = new RegExp(input.pattern, input.case_insensitive === true ? "i" : "");
      } catch (err) {
        throw new ToolError(`invalid regular expression: ${err instanceof Error ? err.message : String(err)}`);
      }
      matcher = (line) => re.test(line);
    } else if (input.case_insensitive === true) {
      const needle = input.pattern.toLowerCase();
      matcher = (line) => line.toLowerCase().includes(needle);
    } else {
      matcher = (line) => line.includes(input.pattern);
    }
    const glob = input.glob !== undefined ? globMatcher(input.glob) : undefined;

    const st = await stat(base);
    const files: AsyncIterable<string> | string[] = st.isFile() ? [base] : searchableFiles(base, ctx);

    const out: string[] = [];
    let filesSearched = 0;
    for await (const file of files) {
      const rel = displayPath(ctx.ws, file);
      if (glob && !glob(rel)) continue;
      const text = await readTextFile(file).catch(() => null);
      if (text === null) continue;
      filesSearched++;
      const lines = text.split("\n");
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] ?? "";
        if (!matcher(line)) continue;
        const shown = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
        out.push(`${rel}:${i + 1}: ${shown}`);
        if (out.length >= max) return `${out.join("\n")}\n… [stopped at ${max} matches]`;
      }
    }
    return out.length > 0 ? out.join("\n") : `no matches (${filesSearched} files searched)`;
  },
});
