/** `npm run bench`: every hot path's figure beside its floor from the same run. */
import { formatRows, type Row } from "./row.ts";
import { runtimeBenchmarks } from "./runtime.ts";

const suites: Array<[string, () => Promise<Row[]>]> = [
  ["runtime (2 PEs, worker threads)", runtimeBenchmarks],
];

for (const [title, suite] of suites) {
  console.log(`\n== ${title} ==`);
  console.log(formatRows(await suite()));
}
