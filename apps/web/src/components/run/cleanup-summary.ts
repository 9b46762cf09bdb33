import type { RouterOutputs } from "@/trpc/types";

type CleanupReport = NonNullable<RouterOutputs["run"]["abort"]["cleanup"]>;

/**
 * One line on what a merge or abort did to the run's worktree and branch. Cleanup problems
 * are reported by the server, not thrown (the merge or abort has happened), so the person
 * who clicked must read them here.
 */
export function describeCleanup(report: CleanupReport | null | undefined): string {
  if (!report) return "worktree and branch kept";
  if (report.repository === "unavailable") return "the repository is not on this server: its runner's sweep removes the worktree";
  const parts: string[] = [];
  const removed = report.worktrees.filter((w) => w.outcome === "removed" || w.outcome === "gone").length;
  const troubled = report.worktrees.filter((w) => w.outcome === "failed" || w.outcome === "refused");
  if (removed) parts.push(removed === 1 ? "worktree removed" : `${removed} worktrees removed`);
  for (const w of troubled) parts.push(`${w.path} ${w.outcome}${w.error ? ` (${w.error})` : ""}`);
  if (report.branch.deleted) parts.push(`branch ${report.branch.name} deleted`);
  else if (report.branch.kept === "checked-out")
    parts.push(`branch ${report.branch.name} kept: still checked out in ${report.branch.checkedOutAt ?? "a worktree"}`);
  else if (report.branch.error) parts.push(`branch ${report.branch.name} not deleted: ${report.branch.error}`);
  else if (report.branch.kept === "missing") parts.push(`branch ${report.branch.name} was already gone`);
  else parts.push(`branch ${report.branch.name} kept`);
  if (report.pending) parts.push("the server tries the rest again shortly");
  return parts.join(" · ");
}
