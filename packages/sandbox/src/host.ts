/**
 * What of the host a sandbox sees, worked out once per runner: the system directories
 * (read-only), a minimal /etc (certificates, the dynamic linker's cache, time zone,
 * name-service switch, and a synthetic passwd, group and hosts for the sandbox's own
 * user), and where programs that live outside /usr are installed.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The unprivileged user every sandboxed process runs as (inside its user namespace). */
export const SANDBOX_USER = { name: "agent", uid: 1000, gid: 1000, home: "/home/agent", shell: "/bin/sh" } as const;

export type SystemMount = { kind: "ro-bind"; src: string; dest: string } | { kind: "symlink"; target: string; dest: string };

// Top-level system directories: bound read-only, or mirrored as the symlinks into /usr
// they are on merged-/usr systems.
const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

// /etc entries programs need to work; nothing that configures the host's services or users.
const ETC_ENTRIES = [
  // Certificates only: /etc/ssl/private holds the host's keys.
  "ssl/certs",
  "ssl/openssl.cnf",
  "ca-certificates",
  "ca-certificates.conf",
  "alternatives",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "localtime",
  "timezone",
  "nsswitch.conf",
  "host.conf",
  "gai.conf",
  "protocols",
  "services",
  "mime.types",
  "os-release",
  "debian_version",
  "magic",
  "magic.mime",
];

export interface HostLayout {
  system: SystemMount[];
  /** Read-only binds into /etc: [host path, sandbox path]. */
  etc: Array<[string, string]>;
}

export function systemMounts(root = "/"): SystemMount[] {
  const mounts: SystemMount[] = [];
  for (const dir of SYSTEM_DIRS) {
    const host = path.join(root, dir);
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) mounts.push({ kind: "symlink", target: readlinkSync(host), dest: dir });
    else if (st.isDirectory()) mounts.push({ kind: "ro-bind", src: host, dest: dir });
  }
  return mounts;
}

/**
 * Makes the sandbox's /etc under `dir` (once per runner): its own passwd, group and hosts,
 * and a copy of the host's entries programs need (symlinks copied as symlinks: most lead
 * into /usr, which the sandbox has). One directory bound at /etc costs one mount instead of
 * one per entry — on every process start; a host change to these files is picked up when
 * the runner restarts. Resolver configuration is left out on purpose: the sandbox has no
 * network of its own, and its proxies resolve names outside.
 */
export function prepareHostLayout(dir: string): HostLayout {
  const etcDir = path.join(dir, "etc");
  rmSync(etcDir, { recursive: true, force: true });
  mkdirSync(etcDir, { recursive: true, mode: 0o755 });
  for (const name of ETC_ENTRIES) {
    const host = path.join("/etc", name);
    if (!existsSync(host)) continue;
    mkdirSync(path.dirname(path.join(etcDir, name)), { recursive: true });
    cpSync(host, path.join(etcDir, name), { recursive: true, verbatimSymlinks: true, dereference: false });
  }
  const u = SANDBOX_USER;
  const files: Record<string, string> = {
    passwd:
      "root:x:0:0:root:/root:/usr/sbin/nologin\n" +
      `${u.name}:x:${u.uid}:${u.gid}:agentboard run:${u.home}:${u.shell}\n` +
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    group: `root:x:0:\n${u.name}:x:${u.gid}:\nnogroup:x:65534:\n`,
    hosts: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(etcDir, name), content, { mode: 0o644 });
  return { system: systemMounts(), etc: [[etcDir, "/etc"]] };
}

/** True when `p` is inside a directory the sandbox binds anyway (/usr and its kin). */
export function underSystemDirs(p: string, system: readonly SystemMount[]): boolean {
  return system.some((m) => m.kind === "ro-bind" && (p === m.dest || p.startsWith(`${m.dest}/`)));
}

/**
 * The directory to bind read-only so that `program` runs inside the sandbox: its real
 * location's directory (for an npm package, the package folder that holds the binary),
 * or null when it already lies under the system directories.
 */
export function programDir(program: string, system: readonly SystemMount[]): string | null {
  const real = realpathSync(program);
  if (underSystemDirs(real, system)) return null;
  return path.dirname(real);
}

/**
 * Node's installation prefix when node lives outside /usr (nvm, /opt/node…): the sandbox
 * binds it read-only and puts its bin directory on PATH, so `node` and `npm` work inside.
 */
export function nodePrefix(system: readonly SystemMount[], execPath = process.execPath): string | null {
  const real = realpathSync(execPath);
  if (underSystemDirs(real, system)) return null;
  return path.dirname(path.dirname(real));
}
