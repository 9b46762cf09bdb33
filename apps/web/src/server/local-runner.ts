import type { ApiCore } from "@agentboard/api";

/**
 * The runner started beside the server by `npm start` (AGENTBOARD_LOCAL_RUNNER=0 turns it
 * off). It is a real runner talking to this server over HTTP, like any other.
 * Filled in by the runner work (apps/runner).
 */
export async function startLocalRunner(_opts: { server: string; adminToken: string; core: ApiCore; dataDir: string }): Promise<() => Promise<void>> {
  return async () => undefined;
}
