import { charm, Chare, Future, Reducer } from "charm4ts";
export class Summer extends Chare {
  step(done: Future<number>) { this.contribute(1, Reducer.sum, done); }
}
async function main() {
  const s = charm.array(Summer, 100);
  await charm.awaitCreation(s);
  const out: string[] = [];
  for (let chunk = 0; chunk < 30; chunk++) {
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) { const f = new Future<number>(); s.step(f); await f; }
    out.push(((performance.now() - t0) / 300).toFixed(3));
  }
  console.log(out.join(" "));
  charm.exit();
}
charm.start(main);
