// npm run bench:runner-install — the installed size of a runner-only machine: the packages a
// runner needs (`@agentboard/runner`, `@agentboard/client` and the workspace packages they
// depend on) are packed with `npm pack` from their build (`npm run build` first), installed
// into an empty directory with the machine's npm and registry (`--omit=dev`, as a second
// machine would), and measured with `du`. Fails if Prisma, a database driver or Next.js got in.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PACKAGES = ["apps/runner", "packages/client", "packages/git", "packages/sandbox", "packages/text"];
const SERVER_ONLY = ["prisma", "@prisma", "better-sqlite3", "next", "@next", "pg", "@agentboard/api", "@agentboard/db"];

for (const dir of PACKAGES) {
  if (!existsSync(join(ROOT, dir, "dist"))) throw new Error(`${dir}/dist is missing: run \`npm run build\` first`);
}
const work = mkdtempSync(join(tmpdir(), "agentboard-runner-install-"));
const packs = join(work, "packs");
const app = join(work, "app");
execFileSync("mkdir", ["-p", packs, app]);
const env = { ...process.env, NODE_OPTIONS: "" };
const tarballs: Record<string, string> = {};
for (const dir of PACKAGES) {
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", packs], { cwd: join(ROOT, dir), env, encoding: "utf8" });
  const [packed] = JSON.parse(out) as Array<{ name: string; filename: string }>;
  tarballs[packed!.name] = `file:${join(packs, packed!.filename)}`;
}
// `overrides`: the workspace packages' own "*" dependencies on each other come from these
// tarballs too, never from the registry.
writeFileSync(
  join(app, "package.json"),
  JSON.stringify(
    {
      name: "runner-only",
      private: true,
      dependencies: { "@agentboard/runner": tarballs["@agentboard/runner"], "@agentboard/client": tarballs["@agentboard/client"] },
      overrides: tarballs,
    },
    null,
    2,
  ),
);
const t0 = performance.now();
execFileSync("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: app, env, stdio: ["ignore", "inherit", "inherit"] });
const installMs = performance.now() - t0;

const size = execFileSync("du", ["-sh", join(app, "node_modules")], { encoding: "utf8" }).split("\t")[0];
const bytes = Number(execFileSync("du", ["-sb", join(app, "node_modules")], { encoding: "utf8" }).split("\t")[0]);
const installed: string[] = [];
for (const entry of readdirSync(join(app, "node_modules"))) {
  if (entry.startsWith(".")) continue;
  if (entry.startsWith("@")) for (const sub of readdirSync(join(app, "node_modules", entry))) installed.push(`${entry}/${sub}`);
  else installed.push(entry);
}
const forbidden = installed.filter((name) => SERVER_ONLY.some((s) => name === s || name.startsWith(`${s}/`)));
// The runner starts: its --help comes from the installed, compiled package.
const help = execFileSync(join(app, "node_modules/.bin/agentboard-runner"), ["--help"], { cwd: app, env, encoding: "utf8" });
const runnerVersion = (JSON.parse(readFileSync(join(app, "node_modules/@agentboard/runner/package.json"), "utf8")) as { version: string }).version;

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} (1, 5, 15 min)`,
);
console.log(
  `runner-only install (@agentboard/runner ${runnerVersion} + @agentboard/client): ${size} ` +
    `in node_modules (${(bytes / 1e6).toFixed(1)} MB), ${installed.length} packages, npm ` +
    `install ${(installMs / 1000).toFixed(1)} s`,
);
console.log(`agentboard-runner --help from the install: ${help.split("\n")[0]}`);
console.log(`server-only packages installed: ${forbidden.length === 0 ? "none" : forbidden.join(", ")}`);
rmSync(work, { recursive: true, force: true });
if (forbidden.length > 0) process.exit(1);
