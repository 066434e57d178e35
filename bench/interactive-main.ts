// Runs only the interactive (kernel + runtime) benchmarks: `node dist/bench-interactive.js`.
import { formatRows } from "./row.ts";
import { interactiveBenchmarks } from "./interactive.ts";

console.log(formatRows(await interactiveBenchmarks()));
