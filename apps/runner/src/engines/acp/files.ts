/**
 * The agent's file requests (`fs/read_text_file`, `fs/write_text_file`), confined to the
 * run's worktree by the same path checks as the anthropic engine's tools: a path outside,
 * or through a symlink leading outside, is refused with a JSON-RPC error the agent sees.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { RequestError } from "@agentclientprotocol/sdk";
import { resolveInWorkspace, type Workspace } from "../tools/paths.js";
import { ToolError } from "../tools/tool-error.js";

const MAX_READ_BYTES = 10 * 1024 * 1024;

async function confined(ws: Workspace, p: string): Promise<string> {
  try {
    return await resolveInWorkspace(ws, p);
  } catch (err) {
    if (err instanceof ToolError) throw RequestError.invalidParams({ path: p }, err.message);
    throw err;
  }
}

function ioError(p: string, err: unknown): RequestError {
  const code = err instanceof Error && "code" in err ? String(err.code) : "EIO";
  return new RequestError(code === "ENOENT" ? -32002 : -32603, `${code}: cannot access ${p}`, { path: p });
}

/** `line` is 1-based; `limit` counts lines. */
export async function readTextFile(ws: Workspace, p: string, line?: number | null, limit?: number | null): Promise<string> {
  const abs = await confined(ws, p);
  let text: string;
  try {
    const bytes = await readFile(abs);
    if (bytes.length > MAX_READ_BYTES) throw RequestError.invalidParams({ path: p }, `file is larger than ${MAX_READ_BYTES} bytes`);
    text = bytes.toString("utf8");
  } catch (err) {
    if (err instanceof RequestError) throw err;
    throw ioError(p, err);
  }
  if (!line && !limit) return text;
  const lines = text.split("\n");
  const start = Math.max(0, (line ?? 1) - 1);
  return lines.slice(start, limit ? start + limit : undefined).join("\n");
}

/** `approve` is asked once the path is known to be inside the worktree, before anything is written. */
export async function writeTextFile(ws: Workspace, p: string, content: string, approve?: (abs: string) => Promise<void>): Promise<void> {
  const abs = await confined(ws, p);
  await approve?.(abs);
  try {
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, content, "utf8");
  } catch (err) {
    throw ioError(p, err);
  }
}
