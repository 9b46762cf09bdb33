export * from "./policy.js";
export {
  spawnGroup,
  signalGroup,
  isProcessAlive,
  groupAlive,
  createLineSplitter,
  BoundedOutput,
  DEFAULT_GRACE_MS,
  type ExitInfo,
  type GroupProcess,
  type SpawnGroupOptions,
} from "./process.js";
export { sandboxEnv, SYSTEM_PATH, type SandboxEnvInput } from "./env.js";
export { bwrapArgs, bridgeScript, SOCKET_DIR, EGRESS_PORT, MODEL_PORT, type MountPlan } from "./bwrap.js";
export { SANDBOX_USER, programDir, prepareHostLayout, systemMounts, type HostLayout, type SystemMount } from "./host.js";
export { detectCgroups, limitSupport, SandboxCgroup, type LimitHit, type LimitMethod, type LimitSupport } from "./limits.js";
export { EgressProxy, decide, matchEntry, type EgressDecision, type EgressRules } from "./proxy/egress.js";
export { ModelProxy, MODEL_PROXY_KEY } from "./proxy/model.js";
export {
  SandboxHost,
  RunSandbox,
  type SandboxHostOptions,
  type SandboxSupport,
  type RunSandboxInput,
  type SandboxDescription,
  type StartOptions,
  type ProcessStarter,
  plainStarter,
} from "./sandbox.js";
