import type { Metadata } from "next";
import { InvitePage } from "@/components/session/invite-page";

export const metadata: Metadata = { title: "Invitation" };

export default function Page() {
  return <InvitePage />;
}
