// kernel_info (spec: "Kernel info").
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { PROTOCOL_VERSION, type ReplyContent } from "../protocol/messages.ts";

/** The kernel's implementation version (this package's version). */
export const IMPLEMENTATION_VERSION = "0.1.0";

/** kernel_info_reply content (status, protocol_version, implementation, language_info, banner: frontends and test suites require each). */
export function kernelInfo(): ReplyContent["kernel_info_request"] {
  const ts = typescriptVersion();
  return {
    status: "ok",
    protocol_version: PROTOCOL_VERSION,
    implementation: "charm4ts",
    implementation_version: IMPLEMENTATION_VERSION,
    language_info: {
      name: "typescript",
      version: ts,
      mimetype: "text/typescript",
      file_extension: ".ts",
      pygments_lexer: "typescript",
      codemirror_mode: { name: "javascript", typescript: true },
      nbconvert_exporter: "script",
    },
    banner: `charm4ts ${IMPLEMENTATION_VERSION} — TypeScript ${ts} cells on Node ${process.version}, Charm4Py's parallel model`,
    help_links: [
      { text: "Charm4Py documentation", url: "https://charm4py.readthedocs.io" },
      { text: "TypeScript handbook", url: "https://www.typescriptlang.org/docs/handbook/intro.html" },
      { text: "Node.js API", url: `https://nodejs.org/docs/latest-v${process.versions.node.split(".")[0]}.x/api/` },
    ],
    debugger: false,
  };
}

let cachedTs: string | undefined;

/** The TypeScript version cells are written in, read from the installed package (no import: it is large). */
function typescriptVersion(): string {
  if (cachedTs) return cachedTs;
  try {
    const path = createRequire(import.meta.url).resolve("typescript/package.json");
    cachedTs = String(JSON.parse(readFileSync(path, "utf8")).version);
  } catch {
    cachedTs = "5";
  }
  return cachedTs;
}
