/**
 * The size recorded for a new worktree: the bytes of the files checked out, read from the
 * commit's tree (`git ls-tree -l`) rather than by walking the directory — one git process
 * instead of a stat per file, which on a large repository costs as much as the checkout
 * itself and would sit between the claim and the agent's start.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

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

/**
 * Read in the source repository (whose configuration is trusted), not in the run's
 * checkout. The checkout adds little else: its objects are borrowed through alternates.
 */
export function worktreeBytes(sourceRepo: string, commit: string): Promise<number | undefined> {
  return checkedOutBytes(sourceRepo, commit);
}
