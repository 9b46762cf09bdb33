"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import { useSession } from "@/components/session/use-session";
import { useWorkspaceChoice } from "@/components/workspace/use-workspace-choice";
import { WorkspacePicker } from "@/components/workspace/workspace-picker";
import { can } from "@/lib/roles";
import { PersonalTokens, RunnerTokens } from "./token-settings";
import { ProjectSettings } from "./project-settings";
import { WorkflowSettings } from "./workflow-settings";
import { SignOutEverywhere } from "./sign-out-everywhere";
import { WorkspaceSettings } from "./workspace-settings";

/** Your tokens and sessions; and for a workspace's admins: runner tokens, projects and workflows. */
export function SettingsPage() {
  const trpc = useTRPC();
  const { session } = useSession();
  const { workspaces, chosen, choose } = useWorkspaceChoice();
  const isAdmin = can(session, "admin", chosen?.id);
  const projects = useQuery(trpc.project.list.queryOptions({ workspaceId: chosen?.id ?? "" }, { enabled: !!chosen && isAdmin }));
  const archivedProjects = useQuery(trpc.project.list.queryOptions({ workspaceId: chosen?.id ?? "", archived: true }, { enabled: !!chosen && isAdmin }));
  return (
    <div className="mx-auto w-full max-w-4xl space-y-8 px-4 py-8">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <h1 className="text-2xl font-semibold tracking-tight">Settings</h1>
        <WorkspacePicker workspaces={workspaces.data ?? []} value={chosen?.id} onChange={choose} />
      </div>
      {session?.kind === "session" ? (
        <>
          <PersonalTokens />
          <SignOutEverywhere />
        </>
      ) : null}
      {isAdmin && chosen ? (
        <>
          <WorkspaceSettings workspace={chosen} />
          <RunnerTokens workspaceId={chosen.id} />
          <WorkflowSettings workspaceId={chosen.id} />
          {(projects.data ?? []).map((p) => (
            <ProjectSettings key={p.id} project={p} />
          ))}
          {archivedProjects.data?.length ? (
            <section className="rounded-xl bg-white p-4 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800" aria-labelledby="archived-projects">
              <h2 id="archived-projects" className="text-lg font-semibold">
                Archived projects
              </h2>
              <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
                {archivedProjects.data.map((p) => (
                  <ProjectSettings key={p.id} project={p} />
                ))}
              </ul>
            </section>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
