/**
 * `agentboard-runner`: a runner process. SIGINT/SIGTERM stop it gracefully (no new
 * claims, running agents get --shutdown-grace to finish, then are stopped and reported);
 * a second signal stops the agents at once.
 */
import { ConfigError, helpText, loadRunnerConfig, wantsHelp } from "./config.js";
import { createLogger, errorMessage } from "./output/log.js";
import { Runner } from "./lifecycle/runner.js";

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  let config: ReturnType<typeof loadRunnerConfig>;
  try {
    config = loadRunnerConfig({ argv, env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n\nRun agentboard-runner --help for the options.\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger({ format: config.logFormat, fields: { runner: config.name } });
  const runner = new Runner({ config, log, baseEnv: process.env });
  try {
    await runner.start();
  } catch (err) {
    log.error("could not start", { error: errorMessage(err) });
    return 1;
  }

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        log.info(`${signal}: finishing running agents, claiming nothing new (send again to stop them now)`);
        runner.stop().then(
          () => resolve(0),
          (err: unknown) => {
            log.error("shutdown failed", { error: errorMessage(err) });
            resolve(1);
          },
        );
      } else {
        log.info(`${signal}: stopping running agents now`);
        void runner.stop(0);
      }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    // Started by a server (its local runner): when that process is gone, so is the reason to run.
    if (process.env.AGENTBOARD_RUNNER_LIFELINE === "stdin") {
      process.stdin.on("end", () => onSignal("SIGTERM"));
      process.stdin.resume();
    }
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`agentboard-runner: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
