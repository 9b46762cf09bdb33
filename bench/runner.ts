// npm run bench:runner — time from claim to engine start through the real runner, on a
// repository of 10,000 files, beside a plain `git worktree add` of the same repository in
// the same run. Prints both, their ratio and the goal (runner ≤ 1.2 × git + 100 ms).
import { measureClaimToStart } from "./support/claim-to-start.js";

const f = await measureClaimToStart(Number(process.env.BENCH_FILES ?? 10_000), Number(process.env.BENCH_ROUNDS ?? 7));
console.log("");
console.log(`repository: ${f.files} files; ${f.rounds} rounds, medians:`);
console.log(`  plain git worktree add          ${f.gitMs.toFixed(0)} ms`);
console.log(`  runner, claim → engine start    ${f.runnerMs.toFixed(0)} ms (of which creating the checkout ${f.worktreeMs.toFixed(0)} ms)`);
console.log(`  ratio                           ${(f.runnerMs / f.gitMs).toFixed(2)}×`);
console.log(`  goal: ≤ 1.2 × git + 100 ms = ${f.goalMs.toFixed(0)} ms → ${f.runnerMs <= f.goalMs ? "met" : "NOT met"}`);
