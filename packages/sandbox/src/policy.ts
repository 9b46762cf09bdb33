/**
 * A project's sandbox policy (the `Project.sandbox` column): what its runs' processes may
 * reach. Validated by the API when an admin writes it and again by the runner when it
 * reads it from a claim; a missing policy is the default one — confined.
 */
import { z } from "zod";

/**
 * The phases of a run, each with its own network mode: the setup script, the lifecycle
 * hooks (pre, post, error), the agent (the engine and every command it runs), and the
 * checks (the project's test command and the automatic DoD checks).
 */
export const PHASES = ["setup", "hooks", "agent", "checks"] as const;
export type Phase = (typeof PHASES)[number];

/**
 * - `off`: no network at all (the sandbox has only its own loopback);
 * - `allowlist`: through the runner's egress proxy, to the hosts listed;
 * - `open`: through the egress proxy, to any public host (loopback, private and
 *   link-local addresses stay refused unless listed).
 */
export const zNetworkMode = z.enum(["off", "allowlist", "open"]);
export type NetworkMode = z.infer<typeof zNetworkMode>;

const HOST_RE = /^(\*\.)?(?=.{1,253}(:|$))[a-z0-9_-]+(\.[a-z0-9_-]+)*(:\d{1,5})?$/i;
const IPV6_RE = /^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

/** `host`, `host:port`, `*.domain` or `[v6]:port`; without a port, 80 and 443. */
export const zHostEntry = z
  .string()
  .trim()
  .toLowerCase()
  .refine((s) => HOST_RE.test(s) || IPV6_RE.test(s), "expected host, host:port or *.domain")
  .refine((s) => {
    const port = /:(\d+)$/.exec(s)?.[1];
    return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
  }, "port out of range");

/** Names of environment variables the runner fills from its own environment. */
const zEnvName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "an environment variable name")
  // The runner's own credentials and settings are never handed to a run, declared or not.
  .refine((n) => !/^(AGENTBOARD_|ANTHROPIC_|CLAUDE_CODE_)/i.test(n), "AGENTBOARD_*, ANTHROPIC_* and CLAUDE_CODE_* are the runner's own");

export const DEFAULT_LIMITS = { processes: 512, memoryMb: 4096, fileSizeMb: 2048, openFiles: 4096 } as const;

export const zSandboxLimits = z.object({
  /** Processes and threads alive at once in one sandbox. */
  processes: z.number().int().min(16).max(65_536).default(DEFAULT_LIMITS.processes),
  /** Memory of one sandbox's processes together. */
  memoryMb: z.number().int().min(64).max(1_048_576).default(DEFAULT_LIMITS.memoryMb),
  /** Largest file a process may write. */
  fileSizeMb: z.number().int().min(1).max(1_048_576).default(DEFAULT_LIMITS.fileSizeMb),
  openFiles: z.number().int().min(64).max(1_048_576).default(DEFAULT_LIMITS.openFiles),
});
export type SandboxLimits = z.infer<typeof zSandboxLimits>;

export const DEFAULT_NETWORK: Record<Phase, NetworkMode> = { setup: "open", hooks: "off", agent: "off", checks: "off" };

export const zSandboxPolicy = z.object({
  /**
   * No sandbox at all: the run's processes get the runner's rights (its files, its
   * network). Only the global admin may set it; every such run says so.
   */
  unconfined: z.boolean().default(false),
  network: z
    .object({
      setup: zNetworkMode.default(DEFAULT_NETWORK.setup),
      hooks: zNetworkMode.default(DEFAULT_NETWORK.hooks),
      agent: zNetworkMode.default(DEFAULT_NETWORK.agent),
      checks: zNetworkMode.default(DEFAULT_NETWORK.checks),
    })
    .prefault({}),
  /** Hosts reachable in `allowlist` phases; also the only way to reach a private address. */
  allowlist: z.array(zHostEntry).max(200).default([]),
  limits: zSandboxLimits.prefault({}),
  /** A directory kept across the project's runs (package manager caches), at /cache. */
  cache: z.boolean().default(false),
  /** Environment variables passed from the runner's environment to the run's processes. */
  secrets: z.array(zEnvName).max(100).default([]),
});

export type SandboxPolicy = z.infer<typeof zSandboxPolicy>;
/** What an admin writes: every field optional. */
export type SandboxPolicyInput = z.input<typeof zSandboxPolicy>;

/** The policy of a project's `sandbox` column (null: the default). Throws a ZodError when malformed. */
export function parsePolicy(raw: unknown): SandboxPolicy {
  return zSandboxPolicy.parse(raw ?? {});
}

/** Whether runs of this policy need a runner with a working sandbox. */
export function isConfined(raw: unknown): boolean {
  const parsed = zSandboxPolicy.safeParse(raw ?? {});
  // A malformed policy is treated as confined: the runner refuses it with a clear reason.
  return !parsed.success || !parsed.data.unconfined;
}

const PRIVATE_V4 = [/^127\./, /^10\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^169\.254\./, /^0\./, /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./];

/** Loopback, private, link-local, unspecified or CGNAT (IPv4, IPv6 and v4-mapped). */
export function isPrivateAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(a)) return PRIVATE_V4.some((re) => re.test(a)) || /^2(2[4-9]|[3-5]\d)\./.test(a);
  if (a === "::" || a === "::1") return true;
  return /^(fc|fd|fe[89ab]|ff)/.test(a);
}

/** Host part of an allowlist entry. */
export function entryHost(entry: string): string {
  if (entry.startsWith("[")) return entry.slice(1, entry.indexOf("]"));
  return entry.replace(/:\d+$/, "");
}

/**
 * Why this policy may only be written by the global admin, or null: running unconfined,
 * or allowlisting a loopback or private address (the runner's machine may serve things
 * there that trust local callers, such as a database with trust authentication).
 */
export function needsGlobalAdmin(policy: SandboxPolicyInput): string | null {
  if (policy.unconfined) return "running unconfined";
  const local = (policy.allowlist ?? []).find((e) => {
    const host = entryHost(e.trim().toLowerCase());
    return host === "localhost" || host.endsWith(".localhost") || isPrivateAddress(host);
  });
  return local ? `allowlisting the local address ${local}` : null;
}

/**
 * The implicit label of runs that need a sandbox. A confined project's runs carry it; a
 * claim carries it unless the runner says it has no working sandbox, so such a runner is
 * only given runs of projects an admin made unconfined. Nothing else changes in the claim.
 */
export const SANDBOX_LABEL = "sandbox";

export function runLabels(labels: readonly string[], confined: boolean): string[] {
  const rest = labels.filter((l) => l !== SANDBOX_LABEL);
  return confined ? [...rest, SANDBOX_LABEL] : rest;
}

export function claimLabels(labels: readonly string[], hasSandbox: boolean): string[] {
  return runLabels(labels, hasSandbox);
}
