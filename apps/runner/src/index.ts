export { Runner, startRunner, type RunnerOptions } from "./lifecycle/runner.js";
export { loadRunnerConfig, helpText, ConfigError, FLAGS, type RunnerConfig, type RunnerConfigInput, type LoadConfigOptions } from "./config.js";
export { createLogger, silentLogger, type Logger, type LogFields } from "./output/log.js";
export type { Claim, RunOutcome, RunnerObserver, StopCause } from "./types.js";
export { RUNNER_VERSION } from "./version.js";
