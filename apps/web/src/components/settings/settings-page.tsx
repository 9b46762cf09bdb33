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

/** Your tokens and sessions; and for a workspace's admins: runner tokens, projects and workflows. */
export function SettingsPage() {
  const trpc = useTRPC();
  const { session } = useSession();
  const { workspaces, chosen, choose } = useWorkspaceChoice();
  const isAdmin = can(session, "admin", chosen?.id);
  const projects = useQuery(trpc.project.list.queryOptions({ workspaceId: chosen?.id ?? "" }, { enabled: !!chosen && isAdmin }));
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
          <RunnerTokens workspaceId={chosen.id} />
          <WorkflowSettings workspaceId={chosen.id} />
          {(projects.data ?? []).map((p) => (
            <ProjectSettings key={p.id} project={p} />
          ))}
        </>
      ) : null}
    </div>
  );
}
