import type { Dirent } from "node:fs";
import { open, readdir, readlink, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { throwIfAborted } from "../abort.js";
import { defineTool, type ToolContext } from "./define.js";
import { displayPath, resolveInWorkspace } from "./paths.js";
import { ToolError } from "./tool-error.js";

/** Directories that are never worth walking: VCS data and installed dependencies. */
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

/** A glob on file names or relative paths: `*` and `?` within a segment, `**` across. */
function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? "";
    if (c === "*") {
      if (glob[i + 1] === "*") {
        re += ".*";
        i++;
        if (glob[i + 1] === "/") i++;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "{") {
      const end = glob.indexOf("}", i);
      if (end === -1) re += "\\{";
      else {
        re += `(?:${glob
          .slice(i + 1, end)
          .split(",")
          .map((alt) => alt.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
          .join("|")})`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
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
    "list the whole tree below it (skipping .git and node_modules). Symlinks are shown, not followed.",
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
    if (input.recursive === true) {
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
    "Search file contents in the worktree (skipping .git, node_modules, binary and very large files). " +
    "By default `pattern` is a plain substring; set regex: true for a JavaScript regular expression. " +
    "Returns `path:line: text` for each matching line, at most max_results.",
  input: z.object({
    pattern: z.string().min(1),
    regex: z.boolean().optional(),
    case_insensitive: z.boolean().optional(),
    path: z.string().optional().describe("Directory or file to search in; default the worktree root"),
    glob: z.string().optional().describe("Only files whose name (or relative path, if it has a '/') matches, e.g. *.ts or src/**/*.tsx"),
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
    const glob = input.glob !== undefined ? globToRegExp(input.glob) : undefined;
    const globOnPath = input.glob?.includes("/") === true;

    const st = await stat(base);
    const files: AsyncIterable<string> | string[] = st.isFile()
      ? [base]
      : (async function* () {
          for await (const e of walk(base, ctx.signal)) if (e.dirent.isFile()) yield e.abs;
        })();

    const out: string[] = [];
    let filesSearched = 0;
    for await (const file of files) {
      const rel = displayPath(ctx.ws, file);
      if (glob && !glob.test(globOnPath ? rel : path.basename(rel))) continue;
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
