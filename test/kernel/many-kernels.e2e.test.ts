// A class graded at once: 8 kernels started at the same moment, each running a notebook through
// Jupyter's own executor (nbconvert → nbclient → jupyter_client). Every one finishes, and each
// notebook reports its own kernel: distinct processes, ports and keys, PEs that are its own (PE
// processes are its children, hold its runtime's secret and no other's), none left running after.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jupyterEnv, nbconvertExecute, writeNotebook, type JupyterEnv } from "./jupyter-env.ts";
import { describeWith } from "../system-tools.ts";
import { bounded } from "../bounded.ts";
import { gone } from "../runtime/alive.ts";

const KERNELS = 8;
/** Half the kernels run their 2 PEs as processes, so there are PE processes to tell apart. */
const transportOf = (i: number) => (i % 2 === 0 ? "processes" : "threads");

// Small on purpose (2 cores for 8 kernels): the notebook reports who it runs on, and does one
// reduction whose value only its own PEs can give.
const CELLS = [
  `import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
class Who extends Chare {
  who() {
    return { pe: charm.myPe(), pid: process.pid, ppid: process.ppid };
  }
  add(x: number, done: Future<number>) { this.contribute(x, Reducer.sum, done); }
}
const fingerprint = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);
// A PE process drops the runtime's secret from process.env once read; the environment it was
// started with still shows what its kernel handed it.
const secretOf = (pid: number) => {
  if (pid === process.pid) return null; // a PE thread
  const env = readFileSync(\`/proc/\${pid}/environ\`, "utf8").split("\\0");
  return fingerprint(env.find((v) => v.startsWith("CHARM4TS_SECRET="))!);
};`,
  `const whos = charm.array(Who, charm.numPes());
const pes = await Promise.all(Array.from({ length: charm.numPes() }, (_, i) => whos.at(i).who.ret()));
const argv = readFileSync("/proc/self/cmdline", "utf8").split("\\0"); // the kernel's (a cell thread's process.argv is its own)
const connection = JSON.parse(readFileSync(argv[argv.indexOf("-f") + 1], "utf8"));
const ports = ["shell", "control", "iopub", "stdin", "hb"].map((c) => connection[c + "_port"]);
console.log("WHO " + JSON.stringify({
  kernel: process.pid, ports, key: fingerprint(connection.key), student: process.env.STUDENT,
  pes: pes.map((p) => ({ ...p, secret: secretOf(p.pid) })),
}));`,
  `const sum = new Future<number>();
whos.add(Number(process.env.STUDENT), sum);
console.log("SUM " + (await sum));`,
];

interface Who {
  kernel: number;
  ports: number[];
  key: string;
  student: string;
  pes: Array<{ pe: number; pid: number; ppid: number; secret: string | null }>;
}

let je: JupyterEnv;
beforeAll(() => {
  je = jupyterEnv();
});
afterAll(() => je?.cleanup());

describeWith("nbconvert")("8 kernels at once through nbconvert", () => {
  it("all finish, each with its own process, ports, key, secret and PEs, and leave no PE process behind", async () => {
    const work = join(je.dir, "work");
    const notebook = writeNotebook(join(work, "who.ipynb"), CELLS);
    // Started in one turn: every nbconvert starts its kernel at the same moment.
    const run = (i: number) => nbconvertExecute(je, notebook, join(work, `who-${i}.ipynb`), {
      env: { CHARM4TS_PES: "2", CHARM4TS_TRANSPORT: transportOf(i), STUDENT: String(i) },
      args: ["--ExecutePreprocessor.timeout=240"],
    });
    // Each frontend picks its kernel's five ports alone (bind to port 0, close, write them down), so
    // two frontends starting together can pick the same port (about 5 % of such runs here). Only
    // one kernel can have it; the other says so in one line and a grader starts it again, as we do.
    const portTaken = /cannot start: .*Address already in use/;
    const clashes: string[] = [];
    const runs = Array.from({ length: KERNELS }, async (_, i) => {
      const first = await run(i);
      if (first.status === 0 || !portTaken.test(first.stderr)) return first;
      clashes.push(`notebook ${i}: ${portTaken.exec(first.stderr)![0]}`);
      return run(i);
    });
    const results = await bounded(Promise.all(runs), 280_000, `${KERNELS} concurrent nbconvert runs`);
    if (clashes.length > 0) console.info(`started again after a port clash: ${clashes.join("; ")}`);
    expect(clashes.length, "port clashes (one is chance; more is a bug)").toBeLessThanOrEqual(1);
    const reports: Who[] = results.map((r, i) => {
      expect(r.status, `notebook ${i}: ${r.stderr}`).toBe(0);
      const executed = JSON.parse(readFileSync(join(work, `who-${i}.ipynb`), "utf8")) as { cells: Array<{ outputs?: Array<{ output_type: string; text?: string | string[] }> }> };
      const outputs = executed.cells.flatMap((c) => c.outputs ?? []);
      expect(outputs.filter((o) => o.output_type === "error"), `notebook ${i}`).toEqual([]);
      const text = outputs.map((o) => [o.text ?? ""].flat().join("")).join("");
      // Each kernel's PEs reduced its own number: 2 PEs × the student's number.
      expect(text, `notebook ${i}`).toContain(`SUM ${2 * i}`);
      return JSON.parse(/^WHO (.*)$/m.exec(text)![1]!) as Who;
    });
    console.info(`${KERNELS} concurrent nbconvert runs: ${results.map((r) => (r.ms / 1000).toFixed(1)).join(", ")} s`);

    const distinct = <T>(values: T[]) => new Set(values).size === values.length;
    expect(reports.map((r) => r.student)).toEqual(reports.map((_, i) => String(i)));
    expect(distinct(reports.map((r) => r.kernel)), "kernel processes").toBe(true);
    expect(distinct(reports.flatMap((r) => r.ports)), "ports of the kernels' sockets").toBe(true);
    expect(distinct(reports.map((r) => r.key)), "connection keys").toBe(true);
    const secrets: string[] = [];
    const pePids: number[] = [];
    for (const [i, r] of reports.entries()) {
      expect(r.pes.map((p) => p.pe)).toEqual([0, 1]);
      if (transportOf(i) === "threads") {
        expect(r.pes.map((p) => p.pid), `notebook ${i}: PE threads live in the kernel's process`).toEqual([r.kernel, r.kernel]);
        continue;
      }
      // PE processes: children of this kernel, holding one secret (this runtime's) between them.
      for (const p of r.pes) {
        expect(p.pid, `notebook ${i}, PE ${p.pe}`).not.toBe(r.kernel);
        expect(p.ppid, `notebook ${i}, PE ${p.pe}: parent`).toBe(r.kernel);
        expect(p.secret, `notebook ${i}, PE ${p.pe}: secret`).toMatch(/^[0-9a-f]{16}$/);
        pePids.push(p.pid);
      }
      expect(new Set(r.pes.map((p) => p.secret)).size, `notebook ${i}: one secret`).toBe(1);
      secrets.push(r.pes[0]!.secret!);
    }
    expect(distinct(pePids), "PE processes").toBe(true);
    expect(distinct(secrets), "runtime secrets").toBe(true);
    // nbconvert shut every kernel down; their PE processes went with them.
    expect(pePids.filter((pid) => !gone(pid)), "PE processes still running").toEqual([]);
    expect(reports.map((r) => r.kernel).filter((pid) => !gone(pid)), "kernels still running").toEqual([]);
  }, 300_000);
});
