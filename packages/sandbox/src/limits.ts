/**
 * Resource limits of a sandbox. Processes and memory are counted for the sandbox as a
 * whole by a cgroup of its own (cgroup v2 where its controllers are delegated to us,
 * else the v1 `pids` and `memory` hierarchies) — RLIMIT_NPROC would count every process
 * of the runner's user and is not enforced for root at all. File size and open files are
 * rlimits, set by the shell that starts bubblewrap. Wall time is the runner's timeouts.
 */
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { SandboxLimits } from "./policy.js";

export type LimitMethod = "cgroup2" | "cgroup1" | "rlimit" | "timeout" | "none";

/** How each limit is enforced on this runner (shown on the runners page and in run events). */
export interface LimitSupport {
  processes: LimitMethod;
  memory: LimitMethod;
  fileSize: LimitMethod;
  openFiles: LimitMethod;
  wallTime: LimitMethod;
}

interface Controller {
  method: "cgroup2" | "cgroup1";
  /** Directory under which each sandbox gets its cgroup. */
  parent: string;
}

export interface CgroupSetup {
  pids: Controller | null;
  memory: Controller | null;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** Our own cgroup paths, from /proc/self/cgroup ("id:controllers:path"). */
function ownCgroups(): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of (readText("/proc/self/cgroup") ?? "").split("\n")) {
    const [, controllers, p] = line.split(":");
    if (controllers === undefined || p === undefined) continue;
    if (controllers === "") map.set("", p);
    for (const c of controllers.split(",")) if (c) map.set(c, p);
  }
  return map;
}

/** True when a child cgroup can be made (and removed again) under `parent`. */
function canNest(parent: string): boolean {
  const probe = path.join(parent, `agentboard-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

function cgroup2Mount(): string | null {
  for (const line of (readText("/proc/self/mounts") ?? "").split("\n")) {
    const [, mountPoint, type] = line.split(" ");
    if (type === "cgroup2" && mountPoint) return mountPoint;
  }
  return null;
}

/**
 * Finds, for `pids` and `memory`, a cgroup directory we may create children in: cgroup v2
 * when the controller is enabled for our cgroup's children, else cgroup v1.
 */
export function detectCgroups(): CgroupSetup {
  const own = ownCgroups();
  const setup: CgroupSetup = { pids: null, memory: null };
  const v2 = cgroup2Mount();
  if (v2 && own.has("")) {
    const dir = path.join(v2, own.get("") ?? "/");
    const enabled = (readText(path.join(dir, "cgroup.subtree_control")) ?? "").split(/\s+/);
    const available = (readText(path.join(dir, "cgroup.controllers")) ?? "").split(/\s+/);
    for (const c of ["pids", "memory"] as const) {
      if (!available.includes(c)) continue;
      // Enabling a controller for children needs write access here; canNest checks the rest.
      if (!enabled.includes(c)) {
        try {
          writeFileSync(path.join(dir, "cgroup.subtree_control"), `+${c}`);
        } catch {
          continue;
        }
      }
      if (canNest(dir)) setup[c] = { method: "cgroup2", parent: dir };
    }
  }
  for (const c of ["pids", "memory"] as const) {
    if (setup[c]) continue;
    const p = own.get(c);
    if (p === undefined) continue;
    const dir = path.join("/sys/fs/cgroup", c, p);
    if (canNest(dir)) setup[c] = { method: "cgroup1", parent: dir };
  }
  return setup;
}

/**
 * Removes the empty cgroups runs of a runner that is gone left behind (they are named
 * `agentboard-<run id>-<runner pid>`); a cgroup with processes in it cannot be removed.
 */
export function removeStaleCgroups(cg: CgroupSetup): void {
  for (const c of [cg.pids, cg.memory]) {
    if (!c) continue;
    let names: string[];
    try {
      names = readdirSync(c.parent);
    } catch {
      continue;
    }
    for (const name of names) {
      const pid = Number(/^agentboard-.+-(\d+)$/.exec(name)?.[1]);
      if (!pid || pid === process.pid || pidAlive(pid)) continue;
      try {
        const dir = path.join(c.parent, name);
        for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmdirSync(path.join(dir, e.name));
        rmdirSync(dir);
      } catch {
        // Not empty, or not ours to remove.
      }
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function limitSupport(cg: CgroupSetup): LimitSupport {
  return {
    processes: cg.pids?.method ?? "none",
    memory: cg.memory?.method ?? "none",
    fileSize: "rlimit",
    openFiles: "rlimit",
    wallTime: "timeout",
  };
}

export interface LimitHit {
  limit: "processes" | "memory" | "fileSize";
  message: string;
}

type CgroupDir = { controller: "pids" | "memory"; dir: string; method: "cgroup1" | "cgroup2" };

function readCounters(dirs: readonly CgroupDir[]): { forks: number; oomKills: number } {
  let forks = 0;
  let oomKills = 0;
  for (const d of dirs) {
    if (d.controller === "pids") forks += Number(/^max (\d+)/m.exec(readText(path.join(d.dir, "pids.events")) ?? "")?.[1] ?? 0);
    else
      oomKills += Number(/^oom_kill (\d+)/m.exec(readText(path.join(d.dir, d.method === "cgroup2" ? "memory.events" : "memory.oom_control")) ?? "")?.[1] ?? 0);
  }
  return { forks, oomKills };
}

function procsOf(dir: string): number[] {
  return (readText(path.join(dir, "cgroup.procs")) ?? "")
    .split("\n")
    .filter((l) => l !== "")
    .map(Number);
}

/** Removes a cgroup; it can only go once it is empty, so this retries briefly. */
async function removeDir(dir: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function waitEmpty(members: () => number[]): Promise<void> {
  for (let wait = 1; members().length > 0 && wait < 2_000; wait *= 2) await new Promise((r) => setTimeout(r, wait));
}

/**
 * A run's cgroups: made at its first process and removed when the run's sandbox closes.
 * They carry the run's limits, for all its processes together. Each process the run
 * starts gets a cgroup of its own nested inside (`child()`), so that one process — an
 * agent's terminal — can be stopped, waited for and told apart without touching the
 * others running beside it (the agent itself).
 */
export class SandboxCgroup {
  private readonly dirs: CgroupDir[] = [];
  private readonly children = new Set<ProcessCgroup>();
  private seq = 0;

  constructor(
    setup: CgroupSetup,
    name: string,
    readonly limits: SandboxLimits,
  ) {
    for (const controller of ["pids", "memory"] as const) {
      const c = setup[controller];
      if (!c) continue;
      const dir = path.join(c.parent, name);
      try {
        mkdirSync(dir);
        if (controller === "pids") writeFileSync(path.join(dir, "pids.max"), String(limits.processes));
        else if (c.method === "cgroup2") {
          writeFileSync(path.join(dir, "memory.max"), String(limits.memoryMb * 1024 * 1024));
          // Swapping out instead of being stopped would only slow the machine down.
          try {
            writeFileSync(path.join(dir, "memory.swap.max"), "0");
          } catch {
            // No swap accounting: nothing to limit.
          }
        } else writeFileSync(path.join(dir, "memory.limit_in_bytes"), String(limits.memoryMb * 1024 * 1024));
        this.dirs.push({ controller, dir, method: c.method });
      } catch {
        try {
          rmdirSync(dir);
        } catch {
          // It was never made.
        }
      }
    }
  }

  /**
   * The cgroup of one process of the run, inside the run's: the run's limits still count it,
   * its own membership says which processes are its. Without cgroups it is empty (no members).
   */
  child(): ProcessCgroup {
    const name = `p${++this.seq}`;
    const dirs: CgroupDir[] = [];
    for (const d of this.dirs) {
      const dir = path.join(d.dir, name);
      try {
        mkdirSync(dir);
        dirs.push({ ...d, dir });
      } catch {
        // Not nestable here: the process is then only counted, not told apart.
      }
    }
    const child = new ProcessCgroup(this, dirs, () => this.children.delete(child));
    this.children.add(child);
    return child;
  }

  /** @internal The run's own counters (a refused fork is counted where the limit is, or where it happened, by kernel). */
  counters(): { forks: number; oomKills: number } {
    return readCounters(this.dirs);
  }

  /** Pids of every process of the run, in any of its processes' cgroups. */
  members(): number[] {
    const d = this.dirs[0];
    if (!d) return [];
    const pids = procsOf(d.dir);
    let names: string[] = [];
    try {
      names = readdirSync(d.dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      // Gone.
    }
    for (const name of names) pids.push(...procsOf(path.join(d.dir, name)));
    return pids;
  }

  /** SIGKILL to every process of the run that is still there, and waits until they are gone. */
  async kill(): Promise<void> {
    for (let round = 0; round < 5 && this.members().length > 0; round++) {
      for (const pid of this.members()) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Gone already.
        }
      }
      await waitEmpty(() => this.members());
    }
  }

  /** Removes the run's cgroups (its processes' first). */
  async remove(): Promise<void> {
    await Promise.all([...this.children].map((c) => c.remove()));
    for (const d of this.dirs) {
      try {
        for (const e of readdirSync(d.dir, { withFileTypes: true })) if (e.isDirectory()) await removeDir(path.join(d.dir, e.name));
      } catch {
        // Gone.
      }
      await removeDir(d.dir);
    }
  }
}

/** The cgroup of one process of a run (and of everything it starts), nested in the run's. */
export class ProcessCgroup {
  private baseline = { forks: 0, oomKills: 0 };

  constructor(
    private readonly run: SandboxCgroup,
    private readonly dirs: readonly CgroupDir[],
    private readonly forget: () => void,
  ) {
    this.baseline = this.counters();
  }

  /** Files the starting shell writes its pid into, so bubblewrap and all it starts are counted. */
  get procsFiles(): string[] {
    return this.dirs.map((d) => path.join(d.dir, "cgroup.procs"));
  }

  /** Pids of the process and everything it started (empty without cgroups). */
  members(): number[] {
    const d = this.dirs[0];
    return d ? procsOf(d.dir) : [];
  }

  private counters(): { forks: number; oomKills: number } {
    const run = this.run.counters();
    const own = readCounters(this.dirs);
    return { forks: run.forks + own.forks, oomKills: run.oomKills + own.oomKills };
  }

  /**
   * A limit of the run hit since this process started: a fork refused at the process limit,
   * or an out-of-memory kill. The limits are the run's, so a hit by any of its processes
   * counts for each one running (the run ends with it).
   */
  hit(): LimitHit | null {
    const now = this.counters();
    if (now.forks > this.baseline.forks) {
      return { limit: "processes", message: `the sandbox reached its limit of ${this.run.limits.processes} processes (a fork was refused) and was stopped` };
    }
    if (now.oomKills > this.baseline.oomKills) {
      return { limit: "memory", message: `the sandbox ran out of its ${this.run.limits.memoryMb} MB of memory (a process was killed) and was stopped` };
    }
    return null;
  }

  /** Waits (briefly) until no process is left in it: a killed sandbox's last members go asynchronously. */
  async drained(): Promise<void> {
    await waitEmpty(() => this.members());
  }

  async remove(): Promise<void> {
    this.forget();
    await Promise.all(this.dirs.map((d) => removeDir(d.dir)));
  }
}

/**
 * The shell line that puts itself into the sandbox's cgroups, sets the rlimits and then
 * becomes bubblewrap: `sh -c <this> sh <procs files…> -- bwrap …`. Nothing in it comes from
 * a run: the paths are the runner's own, the numbers validated.
 */
export function starterScript(limits: SandboxLimits): string {
  // dash counts -f in 512-byte blocks.
  const blocks = limits.fileSizeMb * 2048;
  return [
    `ulimit -f ${blocks} || exit 125`,
    // Above the hard limit an unprivileged runner cannot go; the hard limit then applies.
    `ulimit -n ${limits.openFiles} 2>/dev/null || ulimit -n "$(ulimit -H -n)"`,
    'while [ "$1" != "--" ]; do echo $$ > "$1" || exit 125; shift; done',
    "shift",
    'exec "$@"',
  ].join("\n");
}
