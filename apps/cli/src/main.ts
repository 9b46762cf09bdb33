import { runCli } from "./index.js";

const outcome = await runCli(process.argv.slice(2), process.env);
process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
process.exitCode = outcome.ok ? 0 : 1;
