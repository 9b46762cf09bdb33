import { execFileSync } from "node:child_process";

/** Runs git in `dir` and answers its trimmed output (tests check the repository the server changed). */
export function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
}
