import { afterAll, beforeAll, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CellExecutor, type CellResult } from "../../../kernel/cells/executor.ts";
import { recorder } from "./helpers.ts";

// A notebook folder with its own package.json and hand-made packages: no network needed.
let dir: string;
let executor: CellExecutor;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "charm4ts-cells-"));
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write("package.json", JSON.stringify({ name: "notebook", type: "module" }));
  write("node_modules/cjs-pkg/package.json", JSON.stringify({ name: "cjs-pkg", main: "main.js" }));
  write("node_modules/cjs-pkg/main.js", "exports.add = (a, b) => a + b; exports.kind = 'cjs';");
  // ESM-only: no "require" condition, so a require()-based import (tslab's) cannot load it.
  write("node_modules/esm-pkg/package.json", JSON.stringify({ name: "esm-pkg", type: "module", exports: { ".": { import: "./index.js" } } }));
  write("node_modules/esm-pkg/index.js", "export const greet = (n) => 'hi ' + n; export default 'esm default';");
  write("lib/util.ts", "import { twice } from './twice.ts';\nexport enum Mode { Fast = 'fast' }\nexport const quad = (n: number): number => twice(twice(n));\n");
  write("lib/twice.ts", "export function twice(n: number): number { return 2 * n; }\n");
  executor = await CellExecutor.start({ cwd: dir });
});
afterAll(async () => {
  await executor.close();
  rmSync(dir, { recursive: true, force: true });
});

const plain = (result: CellResult) => (result.status === "ok" ? result.value?.data["text/plain"] : result);

it("imports a CommonJS package from the notebook's folder", async () => {
  expect(plain(await executor.execute("import cjs, { add } from 'cjs-pkg';\n[add(1, 2), cjs.kind]", recorder().hooks))).toBe("[ 3, 'cjs' ]");
});

it("imports an ESM-only package", async () => {
  expect(plain(await executor.execute("import msg, { greet } from 'esm-pkg';\n[greet('x'), msg]", recorder().hooks))).toBe("[ 'hi x', 'esm default' ]");
});

it("imports a relative .ts file that imports another, and keeps the binding for later cells", async () => {
  expect(await executor.execute("import * as util from './lib/util.ts';\nimport { quad, Mode } from './lib/util.ts';", recorder().hooks)).toEqual({ status: "ok" });
  expect(plain(await executor.execute("[quad(3), util.Mode.Fast, Mode.Fast]", recorder().hooks))).toBe("[ 12, 'fast', 'fast' ]");
});

it("supports dynamic import(), require and node: builtins", async () => {
  const code = "const { greet: g } = await import('esm-pkg');\nimport { join as j } from 'node:path';\n[g('y'), require('cjs-pkg').add(2, 2), j('a', 'b')]";
  expect(plain(await executor.execute(code, recorder().hooks))).toBe("[ 'hi y', 4, 'a/b' ]");
});

it("supports TypeScript's import-equals require form", async () => {
  expect(plain(await executor.execute("import pkg = require('cjs-pkg');\npkg.add(20, 22)", recorder().hooks))).toBe("42");
});

it("reports a missing package as an error of the cell", async () => {
  const result = await executor.execute("import nope from 'no-such-package';", recorder().hooks);
  expect(result).toMatchObject({ status: "error" });
  if (result.status === "error") expect(result.evalue).toMatch(/no-such-package/);
});
