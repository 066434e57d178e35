// `npm run soak [minutes]`: the delivery audit for minutes, over threads, processes and mixed on
// 3-7 PEs, batches of 50 seeds from a random start (printed: replay a batch with
// `npx charmrun +pN [flags] scripts/soak-audit.ts FIRST 50`). Ends with seeds tried, messages
// audited and failures; exits 1 on any failure.
import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const minutes = Number(process.argv[2] ?? 5);
const deadline = Date.now() + minutes * 60_000;
const layouts = [
  ["+p3"], ["+p5"], ["+p7"], ["+p4"],
  ["+p3", "+processes"], ["+p5", "+processes"], ["+p4", "+processes", "+ppn", "2"],
  ["+p5", "+mixed"], ["+p6", "+mixed"],
];
const BATCH = 50;
let seeds = 0, messages = 0, moves = 0, failures = 0;

function run(flags, first) {
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/charmrun.mjs", ...flags, "scripts/soak-audit.ts", String(first), String(BATCH)], { cwd: root, timeout: 15 * 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ err, out: stdout + stderr }));
  });
}

for (let i = 0; Date.now() < deadline; i++) {
  const flags = layouts[i % layouts.length];
  const first = randomInt(1, 2 ** 30);
  const { err, out } = await run(flags, first);
  const m = /soak: (\d+) seeds from \d+ on \d+ PEs: (\d+) messages audited, (\d+) moves, (\d+) failures/.exec(out);
  if (m) { seeds += Number(m[1]); messages += Number(m[2]); moves += Number(m[3]); failures += Number(m[4]); }
  if (err || !m || Number(m[4]) > 0) {
    if (!m || Number(m[4]) === 0) failures++;
    console.log(`FAILED: charmrun ${flags.join(" ")} scripts/soak-audit.ts ${first} ${BATCH}\n${out.split("\n").filter((l) => !/^\s+at /.test(l)).slice(-30).join("\n")}`);
  } else console.log(`ok: ${flags.join(" ")} seeds ${first}…${first + BATCH - 1}`);
}
console.log(`soak: ${seeds} seeds, ${messages} messages audited, ${moves} moves, ${failures} failures`);
process.exit(failures ? 1 : 0);
