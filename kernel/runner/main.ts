// `node dist/run-notebook.js NOTEBOOK.ipynb [--output executed.ipynb] [--allow-errors]`:
// executes every code cell through a real charm4ts kernel over ZeroMQ, headless, and prints the
// outputs as text. Exits 1 if a cell fails (like `jupyter nbconvert --execute`), 2 on bad usage.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { launchKernel } from "./launch.ts";
import { OutputCollector, outputText, sourceText, validateNotebook, type Notebook } from "./notebook.ts";

/** What a run produced. */
export interface RunResult {
  notebook: Notebook;
  failedCell: number | undefined;
}

/** Executes a notebook's code cells in order; stops at the first error unless allowErrors. */
export async function runNotebook(
  nb: Notebook,
  options: { cwd: string; allowErrors?: boolean; print?: (s: string) => void },
): Promise<RunResult> {
  const print = options.print ?? (() => {});
  const kernel = await launchKernel({ cwd: options.cwd });
  kernel.client.onInput = () => {
    throw new Error("the notebook runner has no stdin");
  };
  let failedCell: number | undefined;
  try {
    for (const [i, cell] of nb.cells.entries()) {
      if (cell.cell_type !== "code") continue;
      const code = sourceText(cell);
      print(`\n[${i + 1}] ${code.split("\n")[0]}${code.includes("\n") ? " …" : ""}\n`);
      const collector = new OutputCollector();
      // allow_stdin false: nobody can answer, so input() fails at once instead of hanging.
      const x = await kernel.client.execute(code, { allow_stdin: false }, (m) => collector.add(m));
      cell.outputs = collector.outputs;
      cell.execution_count = typeof x.reply.content.execution_count === "number" ? x.reply.content.execution_count : null;
      for (const o of cell.outputs) print(outputText(o));
      if (x.reply.content.status !== "ok") {
        failedCell ??= i + 1;
        if (!options.allowErrors) break;
      }
    }
  } finally {
    await kernel.shutdown();
  }
  return { notebook: nb, failedCell };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { output: { type: "string", short: "o" }, "allow-errors": { type: "boolean" } },
  });
  if (positionals.length !== 1) {
    process.stderr.write("usage: run-notebook NOTEBOOK.ipynb [--output executed.ipynb] [--allow-errors]\n");
    return 2;
  }
  const path = resolve(positionals[0]!);
  const nb: unknown = JSON.parse(readFileSync(path, "utf8"));
  validateNotebook(nb, path);
  const out = (s: string) => process.stdout.write(s);
  out(`Running ${path}\n`);
  const { notebook, failedCell } = await runNotebook(nb, {
    cwd: dirname(path),
    allowErrors: values["allow-errors"],
    print: out,
  });
  if (values.output) {
    validateNotebook(notebook, "the executed notebook");
    writeFileSync(values.output, JSON.stringify(notebook, null, 1) + "\n");
    out(`\nWrote ${values.output}\n`);
  }
  if (failedCell !== undefined) {
    process.stderr.write(`\nCell ${failedCell} failed.\n`);
    return 1;
  }
  out("\nAll cells ran.\n");
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`run-notebook: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
