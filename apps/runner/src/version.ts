/** Reported to the server when the runner registers (kept in step with package.json). */
export const RUNNER_VERSION = "0.1.0";
