import type { Metadata } from "next";
import { Suspense } from "react";
import { WorkspaceRunsPage } from "@/components/runs/workspace-runs-page";

export const metadata: Metadata = { title: "Runs" };

export default function Page() {
  return (
    <Suspense>
      <WorkspaceRunsPage />
    </Suspense>
  );
}
