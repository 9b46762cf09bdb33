"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";
import { useSession } from "@/components/session/use-session";
import { isGlobalAdmin } from "@/lib/roles";
import { Empty, ErrorState, Loading } from "@/components/ui/states";
import { CreateWorkspaceForm } from "./create-workspace-form";
import { WorkspaceSection } from "./workspace-section";

/** The boards of every workspace the session can see. */
export function HomePage() {
  const trpc = useTRPC();
  const { session } = useSession();
  const workspaces = useQuery(trpc.workspace.list.queryOptions());

  return (
    <div className="mx-auto w-full max-w-5xl space-y-8 px-4 py-8">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Boards</h1>
          <p className="text-sm text-zinc-500">Pick a board, or set up a workspace, its projects (git repositories) and boards.</p>
        </div>
        {isGlobalAdmin(session) ? <CreateWorkspaceForm /> : null}
      </div>
      {workspaces.isLoading ? <Loading label="Loading workspaces" /> : null}
      {workspaces.error ? <ErrorState error={workspaces.error} retry={() => void workspaces.refetch()} /> : null}
      {workspaces.data?.length === 0 ? (
        <Empty title="No workspaces yet">
          {isGlobalAdmin(session) ? "Create the first one with the button above." : "Ask an admin to create a workspace for you."}
        </Empty>
      ) : null}
      {workspaces.data?.map((ws) => (
        <WorkspaceSection key={ws.id} workspace={ws} />
      ))}
    </div>
  );
}
