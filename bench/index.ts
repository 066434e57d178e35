/** `npm run bench`: every hot path's figure beside its floor from the same run. */
import { formatRows, type Row } from "./row.ts";
import { runtimeBenchmarks } from "./runtime.ts";
import { kernelBenchmarks } from "./kernel.ts";
import { commBenchmarks } from "./comms.ts";
import { cellBenchmarks } from "./cells.ts";
import { interactiveBenchmarks } from "./interactive.ts";
import { balancingBenchmarks } from "./balancing.ts";
import { classroomBenchmarks } from "./classroom.ts";
import { checkpointBenchmarks } from "./checkpoint.ts";

const suites: Array<[string, () => Promise<Row[]>]> = [
  ["runtime (2 PEs, worker threads)", runtimeBenchmarks],
  ["balancing (migration, AtSync; 2 PEs)", balancingBenchmarks],
  ["checkpoint (to disk and back; 2 PEs)", checkpointBenchmarks],
  ["kernel (Jupyter protocol over ZeroMQ)", kernelBenchmarks],
  ["comms (Jupyter comms while cells run; 2 PEs)", commBenchmarks],
  ["cells (TypeScript in the executor worker)", cellBenchmarks],
  ["the runtime inside the kernel (2 PEs)", interactiveBenchmarks],
  ["classroom (many kernels at once through nbconvert)", classroomBenchmarks],
];

// `SUITES=runtime,kernel npm run bench` runs only the suites whose titles start with those words.
const only = process.env.SUITES?.split(",").map((s) => s.trim().toLowerCase());
for (const [title, suite] of suites) {
  if (only && !only.some((word) => title.toLowerCase().startsWith(word))) continue;
  console.log(`\n== ${title} ==`);
  console.log(formatRows(await suite()));
}
