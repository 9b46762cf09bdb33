import { mkdir, open, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { changePreview } from "./change-preview.js";
import { defineTool, type ToolContext } from "./define.js";
import { displayPath, resolveInWorkspace } from "./paths.js";
import { ToolError } from "./tool-error.js";

/** Files larger than this are read only in part (offset/limit). */
const MAX_READ_BYTES = 256 * 1024;
const MAX_READ_CHARS = 30_000;

async function looksBinary(file: string): Promise<boolean> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(8192);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).includes(0);
  } finally {
    await fh.close();
  }
}

async function statOrNull(file: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(file);
  } catch {
    return null;
  }
}

export const readFileTool = defineTool({
  name: "read_file",
  description:
    "Read a UTF-8 text file of the worktree. Paths are relative to the worktree root. " +
    "For long files pass offset (1-based first line) and limit (number of lines).",
  input: z.object({
    path: z.string().describe("File path relative to the worktree root"),
    offset: z.number().int().min(1).optional().describe("First line to return (1-based)"),
    limit: z.number().int().min(1).max(10_000).optional().describe("Number of lines to return"),
  }),
  async run(input, ctx) {
    const file = await resolveInWorkspace(ctx.ws, input.path);
    const rel = displayPath(ctx.ws, file);
    const st = await statOrNull(file);
    if (!st) throw new ToolError(`${rel}: no such file`);
    if (st.isDirectory()) throw new ToolError(`${rel} is a directory; use list_files`);
    if (!st.isFile()) throw new ToolError(`${rel} is not a regular file`);
    if (await looksBinary(file)) throw new ToolError(`${rel} looks like a binary file; not shown`);

    if (input.offset === undefined && input.limit === undefined) {
      if (st.size > MAX_READ_BYTES) {
        throw new ToolError(`${rel} is ${st.size} bytes; read it in parts with offset and limit (lines)`);
      }
      const text = await readFile(file, "utf8");
      if (text.length > MAX_READ_CHARS) {
        return `${text.slice(0, MAX_READ_CHARS)}\n… [truncated at ${MAX_READ_CHARS} characters of ${text.length}; use offset/limit to read more]`;
      }
      return text;
    }
    if (st.size > 32 * 1024 * 1024) throw new ToolError(`${rel} is ${st.size} bytes; too large to read`);
    const lines = (await readFile(file, "utf8")).split("\n");
    const first = (input.offset ?? 1) - 1;
    const slice = lines.slice(first, first + (input.limit ?? 2_000));
    if (slice.length === 0) return `[${rel} has ${lines.length} lines; nothing at offset ${first + 1}]`;
    return `[${rel} lines ${first + 1}-${first + slice.length} of ${lines.length}]\n${slice.join("\n")}`;
  },
});

export const writeFileTool = defineTool({
  name: "write_file",
  description: "Create or overwrite a file in the worktree with the given content. Missing parent directories are created.",
  input: z.object({
    path: z.string().describe("File path relative to the worktree root"),
    content: z.string().describe("The complete new content of the file"),
  }),
  async approval(input, ctx) {
    const file = await resolveInWorkspace(ctx.ws, input.path);
    const st = await statOrNull(file);
    if (st?.isDirectory()) return null;
    // A binary file being replaced shows the new content, like a new file.
    const before = st?.isFile() && !(await looksBinary(file)) ? await readFile(file, "utf8") : null;
    return changePreview(displayPath(ctx.ws, file), before, input.content, st ? "overwrite" : "create");
  },
  async run(input, ctx) {
    const file = await resolveInWorkspace(ctx.ws, input.path);
    const rel = displayPath(ctx.ws, file);
    const st = await statOrNull(file);
    if (st?.isDirectory()) throw new ToolError(`${rel} is a directory`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, input.content, "utf8");
    return `wrote ${Buffer.byteLength(input.content)} bytes to ${rel}`;
  },
});

function countOccurrences(haystack: string, needle: string): number {
  let count = 0;
  let at = haystack.indexOf(needle);
  while (at !== -1) {
    count++;
    at = haystack.indexOf(needle, at + needle.length);
  }
  return count;
}

/** The file as an edit would leave it; ToolError when the edit cannot be made. */
async function planEdit(input: { path: string; old_string: string; new_string: string; replace_all?: boolean }, ctx: ToolContext) {
  const file = await resolveInWorkspace(ctx.ws, input.path);
  const rel = displayPath(ctx.ws, file);
  const st = await statOrNull(file);
  if (!st) throw new ToolError(`${rel}: no such file; use write_file to create it`);
  if (!st.isFile()) throw new ToolError(`${rel} is not a regular file`);
  if (input.old_string === input.new_string) throw new ToolError("old_string and new_string are identical; nothing to do");
  const before = await readFile(file, "utf8");
  const count = countOccurrences(before, input.old_string);
  if (count === 0) throw new ToolError(`old_string not found in ${rel}; read the file and copy the text exactly`);
  if (count > 1 && input.replace_all !== true) {
    throw new ToolError(`old_string occurs ${count} times in ${rel}; add surrounding context to make it unique, or set replace_all`);
  }
  // split/join rather than String.replace: no `$&`-style patterns in new_string.
  return { file, rel, before, after: before.split(input.old_string).join(input.new_string), count };
}

export const editFileTool = defineTool({
  name: "edit_file",
  description:
    "Replace an exact string in a file. old_string must occur exactly once (include enough surrounding " +
    "lines to make it unique) unless replace_all is true. Whitespace and indentation must match exactly.",
  input: z.object({
    path: z.string().describe("File path relative to the worktree root"),
    old_string: z.string().min(1).describe("Exact text to replace"),
    new_string: z.string().describe("Replacement text"),
    replace_all: z.boolean().optional().describe("Replace every occurrence instead of requiring exactly one"),
  }),
  async approval(input, ctx) {
    const edit = await planEdit(input, ctx);
    return changePreview(edit.rel, edit.before, edit.after, "edit");
  },
  async run(input, ctx) {
    const edit = await planEdit(input, ctx);
    await writeFile(edit.file, edit.after, "utf8");
    return `replaced ${edit.count} occurrence${edit.count === 1 ? "" : "s"} in ${edit.rel}`;
  },
});
