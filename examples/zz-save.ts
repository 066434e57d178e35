import { charm, Chare } from "charm4ts";
import { mkdtempSync } from "node:fs";
export class Blob extends Chare {
  data: Float64Array; step = 0; label: string;
  constructor(bytes: number) { super(); this.data = new Float64Array(bytes / 8).fill(this.thisIndex[0]!); this.label = `blob ${this.thisIndex[0]}`; }
}
async function main() {
  let blobs = charm.array(Blob, 100_000, { args: [64] });
  await charm.awaitCreation(blobs);
  const dir = mkdtempSync("/tmp/zzsave-");
  const saves: string[] = [];
  for (let i = 0; i < 8; i++) { const t0 = performance.now(); await charm.checkpoint(dir, { blobs }); saves.push((performance.now() - t0).toFixed(1)); }
  console.log("saves", saves.join(" "));
  const loads: string[] = [];
  for (let i = 0; i < 5; i++) { await charm.destroy(blobs); const t0 = performance.now(); blobs = (await charm.restore<{ blobs: typeof blobs }>(dir)).blobs; loads.push((performance.now() - t0).toFixed(1)); }
  console.log("loads", loads.join(" "));
  charm.exit();
}
charm.start(main);
