import { runCli } from "./index.js";
import { formatOutcome } from "./output.js";

const outcome = await runCli(process.argv.slice(2), process.env);
process.stdout.write(`${formatOutcome(outcome)}\n`);
process.exitCode = outcome.ok ? 0 : 1;
