/**
 * The size recorded for a new worktree: the bytes of the files checked out, read from the
 * commit's tree (`git ls-tree -l`) rather than by walking the directory — one git process
 * instead of a stat per file, which on a large repository costs as much as the checkout
 * itself and would sit between the claim and the agent's start. A clone also holds its
 * own object store, which is added (a few pack files, cheap to measure).
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { dirSize } from "@agentboard/git";

const exec = promisify(execFile);

export async function checkedOutBytes(dir: string, commit: string): Promise<number | undefined> {
  // Only an object id is ever passed here; refuse anything else rather than hand it to git.
  if (!/^[0-9a-f]{7,64}$/i.test(commit)) return undefined;
  try {
    const { stdout } = await exec("git", ["ls-tree", "-r", "-l", "-z", "--full-tree", commit], {
      cwd: dir,
      maxBuffer: 512 * 1024 * 1024,
      env: { ...process.env, LC_ALL: "C", GIT_DIR: undefined, GIT_WORK_TREE: undefined },
    });
    let total = 0;
    for (const record of stdout.split("\0")) {
      // "<mode> <type> <object> <size>\t<path>"; size is "-" for submodules.
      const size = Number(record.slice(0, record.indexOf("\t")).trim().split(/\s+/)[3]);
      if (Number.isFinite(size)) total += size;
    }
    return total;
  } catch {
    return undefined;
  }
}

export async function worktreeBytes(dir: string, commit: string, mode: "worktree" | "clone"): Promise<number | undefined> {
  const files = await checkedOutBytes(dir, commit);
  if (files === undefined || mode === "worktree") return files;
  return files + (await dirSize(path.join(dir, ".git")).catch(() => 0));
}
