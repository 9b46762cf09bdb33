import { RunPage } from "@/components/run/run-page";

export default async function Page({ params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  // Keyed so that another run starts with a fresh log and subscription.
  return <RunPage key={runId} runId={runId} />;
}
