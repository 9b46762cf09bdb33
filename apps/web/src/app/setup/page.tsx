import type { Metadata } from "next";
import { SetupPage } from "@/components/session/setup-page";

export const metadata: Metadata = { title: "Set up" };

export default function Page() {
  return <SetupPage />;
}
