/**
 * Confinement of model-supplied paths to the run's worktree.
 *
 * A path is accepted only when the file it would actually touch lies inside the worktree:
 * `..` and absolute paths are checked lexically, then symlinks are followed (the nearest
 * existing ancestor's realpath, and the targets of dangling links) so that a link pointing
 * outside cannot be used to read or write there.
 *
 * This guards the model's own tool calls; it is no sandbox against run_command, which can
 * run anything the runner's user may.
 */
import { lstat, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { ToolError } from "./tool-error.js";

export interface Workspace {
  /** Real path of the worktree (symlinks resolved). */
  readonly root: string;
  /** The worktree path as the runner gave it, which absolute model paths may use. */
  readonly given: string;
}

export async function openWorkspace(worktree: string): Promise<Workspace> {
  const given = path.resolve(worktree);
  return { root: await realpath(given), given };
}

export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return candidate.startsWith(prefix);
}

/** Path relative to the worktree, for messages shown to the model. */
export function displayPath(ws: Workspace, abs: string): string {
  return path.relative(ws.root, abs) || ".";
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : undefined;
}

const MAX_LINK_HOPS = 40;

/**
 * Resolves `input` to a real absolute path inside the worktree, or throws a ToolError.
 * The returned path may not exist yet (for writes).
 */
export async function resolveInWorkspace(ws: Workspace, input: string): Promise<string> {
  if (typeof input !== "string" || input.trim() === "") throw new ToolError("path must be a non-empty string");
  if (input.includes("\0")) throw new ToolError("path must not contain NUL bytes");

  let candidate = path.isAbsolute(input) ? path.resolve(input) : path.resolve(ws.root, input);
  if (!isInside(ws.root, candidate) && isInside(ws.given, candidate)) {
    candidate = path.join(ws.root, path.relative(ws.given, candidate));
  }
  if (!isInside(ws.root, candidate)) {
    throw new ToolError(`path ${JSON.stringify(input)} is outside the worktree; use paths relative to the worktree root`);
  }

  let current = candidate;
  for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    // Walk up to the nearest entry that exists (a dangling symlink counts as existing).
    let existing = current;
    const rest: string[] = [];
    for (;;) {
      try {
        await lstat(existing);
        break;
      } catch (err) {
        const code = errnoCode(err);
        if (code !== "ENOENT" && code !== "ENOTDIR") throw new ToolError(`cannot access ${JSON.stringify(input)}: ${code ?? String(err)}`);
        const parent = path.dirname(existing);
        if (parent === existing) break;
        rest.unshift(path.basename(existing));
        existing = parent;
      }
    }

    let real: string;
    try {
      real = await realpath(existing);
    } catch (err) {
      const code = errnoCode(err);
      if (code === "ELOOP") throw new ToolError(`path ${JSON.stringify(input)} has a symlink loop`);
      if (code !== "ENOENT") throw new ToolError(`cannot access ${JSON.stringify(input)}: ${code ?? String(err)}`);
      // `existing` is a dangling symlink: writing through it would create its target,
      // so the target is what has to be confined. Follow it and look again.
      const target = path.resolve(path.dirname(existing), await readlink(existing));
      current = path.join(target, ...rest);
      continue;
    }

    const resolved = path.join(real, ...rest);
    if (!isInside(ws.root, resolved)) {
      throw new ToolError(`path ${JSON.stringify(input)} resolves (through a symlink) outside the worktree; refused`);
    }
    return resolved;
  }
  throw new ToolError(`path ${JSON.stringify(input)} has too many levels of symlinks`);
}
