import { mkdirSync, realpathSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { repositoryTopLevel } from "@agentboard/git";
import type { Deps } from "./deps.js";
import { badRequest } from "../errors.js";

/**
 * Where projects' repositories may live. The server merges into a project's repository and
 * creates worktrees beside it, so a workspace admin must not be able to name any directory
 * of the server's machine (another workspace's repository, a system path). The server's
 * administrator declares the roots: `<data dir>/repos` always, plus AGENTBOARD_REPO_ROOTS.
 * Roots are resolved once (symlinks included); a root that does not exist is skipped.
 */
export function resolveRepoRoots(dataDir: string, extra: readonly string[] = []): string[] {
  const own = join(dataDir, "repos");
  mkdirSync(own, { recursive: true });
  const roots: string[] = [];
  for (const root of [own, ...extra]) {
    if (!isAbsolute(root)) throw new Error(`repository root ${root} must be an absolute path`);
    try {
      roots.push(realpathSync(root));
    } catch {
      // Not there (yet): nothing can be inside it.
    }
  }
  return [...new Set(roots)];
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

export interface RepositoryChoice {
  workspaceId: string;
  repoPath?: string;
  remoteUrl?: string | null;
}

/**
 * Checks a project's repository and remote and returns the repository's canonical path
 * (the one stored): it must exist, resolve (symlinks followed) inside a root, be a
 * repository's top level (a subdirectory would silently mean the enclosing repository),
 * and not be another workspace's. A local remote (`file://`) is held to the same roots.
 */
export async function confineRepository(deps: Deps, choice: RepositoryChoice): Promise<{ repoPath?: string }> {
  const roots = deps.config.repoRoots;
  const where = roots.join(", ");
  let repoPath: string | undefined;
  if (choice.repoPath !== undefined) {
    const real = realpathOrNull(choice.repoPath);
    if (!real) throw badRequest(`repoPath ${choice.repoPath} does not exist on the server`, "repoPath");
    if (!roots.some((root) => isInside(root, real))) throw badRequest(`repoPath must be inside a repository root of this server (${where})`, "repoPath");
    const top = await repositoryTopLevel(real);
    if (top === null) throw badRequest(`repoPath ${choice.repoPath} is not a git working tree`, "repoPath");
    if (realpathOrNull(top) !== real) throw badRequest(`repoPath must be a repository's top level (${top}), not a directory inside it`, "repoPath");
    await assertNotAnotherWorkspaces(deps, choice.workspaceId, real, "repoPath");
    repoPath = real;
  }
  if (choice.remoteUrl && /^file:/i.test(choice.remoteUrl)) {
    let local: string | null = null;
    try {
      local = realpathOrNull(fileURLToPath(choice.remoteUrl));
    } catch {
      throw badRequest("remoteUrl is not a valid file URL", "remoteUrl");
    }
    if (!local || !roots.some((root) => isInside(root, local))) {
      throw badRequest(`a local remoteUrl must be inside a repository root of this server (${where})`, "remoteUrl");
    }
    await assertNotAnotherWorkspaces(deps, choice.workspaceId, local, "remoteUrl");
  }
  return { repoPath };
}

/** One repository belongs to one workspace: nothing at or inside another workspace's repository. */
async function assertNotAnotherWorkspaces(deps: Deps, workspaceId: string, real: string, field: string): Promise<void> {
  const others = await deps.db.prisma.project.findMany({ where: { workspaceId: { not: workspaceId } }, select: { repoPath: true } });
  if (others.some((p) => p.repoPath === real || isInside(p.repoPath, real))) throw badRequest(`${field} is a repository of another workspace`, field);
}
