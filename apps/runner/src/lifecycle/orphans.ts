/**
 * Processes left behind in a worktree by a runner that died (SIGKILL, power loss): agent
 * commands run in their own process groups, so they survive their runner. Before a
 * worktree is swept, every process group with a member working inside it is killed.
 * Linux only (/proc); elsewhere this finds nothing. A process that changed its directory
 * away from the worktree is not found: this is a best effort, not a sandbox.
 */
import { promises as fs } from "node:fs";
import path from "node:path";

async function processGroupOf(pid: number): Promise<number | null> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid pgrp …"; comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pgrp = Number(fields[2]);
    return Number.isInteger(pgrp) && pgrp > 0 ? pgrp : null;
  } catch {
    return null;
  }
}

/** Kills (SIGKILL) the process groups working inside `dir`; returns the groups killed. */
export async function killProcessesIn(dir: string): Promise<number[]> {
  let root: string;
  try {
    root = await fs.realpath(dir);
  } catch {
    return [];
  }
  let names: string[];
  try {
    names = await fs.readdir("/proc");
  } catch {
    return [];
  }
  const ownGroup = await processGroupOf(process.pid);
  const groups = new Set<number>();
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    const cwd = await fs.readlink(`/proc/${pid}/cwd`).catch(() => null);
    if (cwd === null || (cwd !== root && !cwd.startsWith(root + path.sep))) continue;
    const group = await processGroupOf(pid);
    if (group !== null && group !== ownGroup) groups.add(group);
    else if (group === null) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  }
  for (const group of groups) {
    try {
      process.kill(-group, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  return [...groups];
}
