import type { Database } from "@agentboard/db";
import type { Notifier } from "../infra/notifier.js";
import type { CallTracker } from "../infra/calls.js";
import type { Mailer } from "../infra/mailer.js";

export interface ServiceConfig {
  /** How long a claim or heartbeat holds a run (PRODUCT.md: ~30 s). */
  leaseMs: number;
  /** Longest a claim may wait for work. */
  maxClaimWaitMs: number;
  /** Where uploaded evidence files live. */
  dataDir: string;
  /** Canonical directories projects' repositories must be inside (repo-roots.ts). */
  repoRoots: string[];
}

export const defaultServiceConfig = { leaseMs: 30_000, maxClaimWaitMs: 25_000 } as const;

/** What every service function needs; built once per server process. */
export interface Deps {
  db: Database;
  notifier: Notifier;
  config: ServiceConfig;
  /** Aborted when the process closes its API: long-polls and streams end before the database does. */
  stopping: AbortSignal;
  /** The procedure calls in progress: closing waits for them before the database closes. */
  calls: CallTracker;
  /** Present when SMTP is configured (invitations by e-mail). */
  mailer?: Mailer;
}

/** A request's signal, also aborted when the API shuts down. */
export function untilStopped(deps: Deps, signal?: AbortSignal): AbortSignal {
  return signal ? AbortSignal.any([signal, deps.stopping]) : deps.stopping;
}
