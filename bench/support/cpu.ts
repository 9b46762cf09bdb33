import { existsSync, readdirSync, readFileSync } from "node:fs";

/** CPU seconds spent since the meter started, by who spent them. */
export interface CpuSpent {
  /** The API server processes, together. */
  servers: number;
  /** This process: the benchmark's clients. */
  clients: number;
  /** Every PostgreSQL process on the machine (server, backends, background workers). */
  postgres: number;
  /** Wall-clock seconds since the meter started. */
  seconds: number;
}

const TICKS_PER_SECOND = 100;

function ticksOf(pid: string | number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // the process is gone
  }
}

function postgresTicks(): number {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .reduce((sum, d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8").startsWith("postgres") ? sum + ticksOf(d) : sum;
      } catch {
        return sum;
      }
    }, 0);
}

/**
 * Where the CPU of a benchmark goes, read from /proc (Linux); null elsewhere. Servers,
 * clients and database share one machine here, so a latency figure means little without
 * how busy the machine was.
 */
export function cpuMeter(serverPids: (number | undefined)[]): { spent(): CpuSpent } | null {
  const pids = serverPids.filter((p): p is number => p !== undefined);
  if (pids.length === 0 || !existsSync("/proc/self/stat")) return null;
  const servers = () => pids.reduce((sum, pid) => sum + ticksOf(pid), 0);
  const start = { servers: servers(), postgres: postgresTicks(), clients: process.cpuUsage(), at: performance.now() };
  return {
    spent() {
      const c = process.cpuUsage(start.clients);
      return {
        servers: (servers() - start.servers) / TICKS_PER_SECOND,
        clients: (c.user + c.system) / 1e6,
        postgres: (postgresTicks() - start.postgres) / TICKS_PER_SECOND,
        seconds: (performance.now() - start.at) / 1000,
      };
    },
  };
}
