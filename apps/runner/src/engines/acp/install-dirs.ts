/**
 * What an ACP agent's program needs bound read-only into the sandbox: the directory of the
 * program (found on the runner's PATH when it is a bare name) and of every absolute path in
 * its arguments (a script), each with the `node_modules` tree it lives in, since an npm
 * package or a script imports its dependencies from there, and the nearest package.json
 * (it says whether a script is an ES module). System directories are bound anyway and are
 * left out.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import path from "node:path";

function onPath(name: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? "").split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  return null;
}

/** The outermost `node_modules` above `file`, or next to one of its ancestors. */
function nodeModulesOf(file: string): string | null {
  let found: string | null = null;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (path.basename(dir) === "node_modules") found = dir;
    else if (existsSync(path.join(dir, "node_modules"))) found = path.join(dir, "node_modules");
    const parent = path.dirname(dir);
    if (parent === dir) return found;
  }
}

/** The package.json that governs `file` (Node reads its "type"), if any. */
function packageJsonOf(file: string): string | null {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "package.json");
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

const SYSTEM = ["/usr/", "/bin/", "/lib/", "/lib64/", "/etc/"];

/** Directories (and package.json files) to bind read-only for the agent's program. */
export function agentInstallDirs(command: string, args: readonly string[], pathVar = process.env.PATH): string[] {
  const program = command.includes("/") ? path.resolve(command) : onPath(command, pathVar);
  const files = [program, ...args.filter((a) => path.isAbsolute(a))].filter((f): f is string => f !== null && existsSync(f));
  const dirs = new Set<string>();
  for (const file of files) {
    const real = realpathSync(file);
    if (SYSTEM.some((s) => real.startsWith(s))) continue;
    dirs.add(statSync(real).isDirectory() ? real : path.dirname(real));
    const modules = nodeModulesOf(real);
    if (modules) dirs.add(modules);
    const manifest = packageJsonOf(real);
    if (manifest) dirs.add(manifest);
  }
  // A directory inside another one bound already adds nothing.
  return [...dirs].filter((d) => ![...dirs].some((o) => o !== d && d.startsWith(`${o}/`)));
}
