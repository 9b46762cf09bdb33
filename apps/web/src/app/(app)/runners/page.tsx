import type { Metadata } from "next";
import { Suspense } from "react";
import { RunnersPage } from "@/components/runners/runners-page";

export const metadata: Metadata = { title: "Runners" };

export default function Page() {
  return (
    <Suspense>
      <RunnersPage />
    </Suspense>
  );
}
