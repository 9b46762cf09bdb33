/**
 * The bubblewrap command line of one sandboxed process (pure: paths in, argv out).
 *
 * Every namespace is new (user, mount, pid, network, ipc, uts, cgroup); the process runs
 * as an unprivileged user with no capabilities, in its own session, and dies with the
 * runner. It sees the system directories and a minimal /etc read-only, its own /proc
 * (only its own processes), a minimal /dev, a private /tmp, the run's HOME, the run's
 * checkout read-write, and whatever else is listed here — nothing more of the host.
 */
import type { HostLayout } from "./host.js";
import { SANDBOX_USER } from "./host.js";

/** Where the runner's proxies appear inside the sandbox (unix sockets, bridged to TCP there). */
export const SOCKET_DIR = "/run/agentboard";
export const EGRESS_PORT = 3128;
export const MODEL_PORT = 3129;

export interface MountPlan {
  layout: HostLayout;
  /** Host directory mounted as the sandbox user's HOME. */
  home: string;
  /** The run's checkout, read-write, at the same path as on the host. */
  checkout: string;
  /** Host paths bound read-only at the same path (the source repository's objects, tool installs). */
  readOnly: readonly string[];
  /** A per-project cache, read-write at /cache. */
  cache?: string | null;
  /** Unix sockets of the runner's proxies: host path → name under SOCKET_DIR. */
  sockets?: ReadonlyArray<{ host: string; name: string }>;
  /** Working directory inside; the checkout by default. */
  cwd?: string;
}

export function bwrapArgs(plan: MountPlan): string[] {
  const u = SANDBOX_USER;
  const args = [
    "--unshare-all",
    // --unshare-all shares nothing, but only tries the user namespace; it is required here.
    "--unshare-user",
    "--uid",
    String(u.uid),
    "--gid",
    String(u.gid),
    "--hostname",
    "sandbox",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
  ];
  for (const m of plan.layout.system) {
    if (m.kind === "ro-bind") args.push("--ro-bind", m.src, m.dest);
    else args.push("--symlink", m.target, m.dest);
  }
  for (const [src, dest] of plan.layout.etc) args.push("--ro-bind", src, dest);
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/var/tmp");
  args.push("--bind", plan.home, u.home);
  for (const p of plan.readOnly) args.push("--ro-bind", p, p);
  args.push("--bind", plan.checkout, plan.checkout);
  if (plan.cache) args.push("--bind", plan.cache, "/cache");
  for (const s of plan.sockets ?? []) args.push("--ro-bind", s.host, `${SOCKET_DIR}/${s.name}`);
  // The sandbox's own root (where the mount points were made) is read-only too: only the
  // checkout, HOME, /tmp and the cache can be written.
  args.push("--remount-ro", "/");
  args.push("--chdir", plan.cwd ?? plan.checkout);
  return args;
}

/**
 * The sandbox's own loopback is the only network it has; each proxy socket is bridged to
 * 127.0.0.1:<port> there by socat, and the command starts once the bridges listen (so its
 * first connection does not race them). Everything in the sandbox, bridges included, ends
 * when the command does (its pid namespace goes with it).
 */
export function bridgeScript(bridges: ReadonlyArray<{ name: string; port: number }>): string {
  if (bridges.length === 0) return 'exec "$@"';
  const lines = bridges.map((b) => `socat -lf /dev/null TCP-LISTEN:${b.port},bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:${SOCKET_DIR}/${b.name} &`);
  // /proc/net/tcp lists listening sockets as "0100007F:<port hex> 00000000:0000 0A".
  const waits = bridges.map((b) => `grep -q "0100007F:${b.port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 0A" /proc/net/tcp`);
  return [...lines, `n=0; until ${waits.join(" && ")}; do n=$((n+1)); [ $n -gt 2000 ] && break; done`, 'exec "$@"'].join("\n");
}
