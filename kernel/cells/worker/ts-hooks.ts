/** Module hooks that let cells import the notebook's own `.ts` files (Node 20 cannot load them). */
import { register } from "node:module";

/** Registers the hooks for this thread's module loader; `typescriptUrl` is where the hooks load TypeScript from. */
export function registerTypeScriptHooks(typescriptUrl: string): void {
  register(`data:text/javascript,${encodeURIComponent(hooksSource(typescriptUrl))}`);
}

// The hooks run on Node's loader thread, so they are shipped as source text with TypeScript's URL
// baked in. A `.ts` module is transpiled per module (TypeScript's own emit: enums etc. work).
function hooksSource(typescriptUrl: string): string {
  return `
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
let ts;
const TS_FILE = /\\.[cm]?tsx?$/;
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    // TypeScript habits: "./util" for "./util.ts", and "./util.js" for "./util.ts".
    if (/^\\.{1,2}\\//.test(specifier)) {
      const candidates = specifier.endsWith(".js") ? [specifier.slice(0, -3) + ".ts"] : [specifier + ".ts", specifier + "/index.ts"];
      for (const candidate of candidates) {
        try { return await next(candidate, context); } catch {}
      }
    }
    throw error;
  }
}
export async function load(url, context, next) {
  if (!url.startsWith("file:") || !TS_FILE.test(new URL(url).pathname)) return next(url, context);
  // require, not import: an ESM import of TypeScript's CommonJS file is twice as slow.
  ts ??= createRequire(${JSON.stringify(typescriptUrl)})(fileURLToPath(${JSON.stringify(typescriptUrl)}));
  const source = await readFile(new URL(url), "utf8");
  const output = ts.transpileModule(source, {
    fileName: url,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true },
  });
  return { format: "module", source: output.outputText, shortCircuit: true };
}
`;
}
