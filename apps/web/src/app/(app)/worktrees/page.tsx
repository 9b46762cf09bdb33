import type { Metadata } from "next";
import { Suspense } from "react";
import { WorktreesPage } from "@/components/worktrees/worktrees-page";

export const metadata: Metadata = { title: "Worktrees" };

export default function Page() {
  return (
    <Suspense>
      <WorktreesPage />
    </Suspense>
  );
}
