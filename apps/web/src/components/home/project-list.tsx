"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import { useSession } from "@/components/session/use-session";
import { can } from "@/lib/roles";
import { ErrorState, Spinner } from "@/components/ui/states";
import { CreateProjectForm } from "./create-project-form";

/** Projects are the git repositories agents work in; cards belong to one. */
export function ProjectList({ workspaceId }: { workspaceId: string }) {
  const trpc = useTRPC();
  const { session } = useSession();
  const projects = useQuery(trpc.project.list.queryOptions({ workspaceId }));
  return (
    <div>
      <div className="mb-2 flex items-center justify-between">
        <h3 className="text-sm font-medium text-zinc-600 dark:text-zinc-400">Projects</h3>
        {can(session, "admin", workspaceId) ? <CreateProjectForm workspaceId={workspaceId} /> : null}
      </div>
      {projects.isLoading ? <Spinner label="Loading projects" /> : null}
      {projects.error ? <ErrorState error={projects.error} retry={() => void projects.refetch()} /> : null}
      {projects.data?.length === 0 ? <p className="text-sm text-zinc-500">No projects yet: cards need a project (a git repository) to run in.</p> : null}
      <ul className="divide-y divide-zinc-100 text-sm dark:divide-zinc-800">
        {projects.data?.map((p) => (
          <li key={p.id} className="flex flex-wrap items-baseline gap-x-3 py-1.5">
            <span className="font-medium">{p.name}</span>
            <code className="text-xs text-zinc-500">{p.repoPath}</code>
            <span className="text-xs text-zinc-500">base {p.baseBranch}</span>
            {p.testCommand ? <code className="text-xs text-zinc-500">tests: {p.testCommand}</code> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
