export { Runner, startRunner, type RunnerOptions } from "./runner.js";
export { loadRunnerConfig, helpText, ConfigError, FLAGS, type RunnerConfig, type RunnerConfigInput, type LoadConfigOptions } from "./config.js";
export { createLogger, silentLogger, type Logger, type LogFields } from "./log.js";
export type { Claim, RunOutcome, RunnerObserver, StopCause } from "./types.js";
export { RUNNER_VERSION } from "./version.js";
