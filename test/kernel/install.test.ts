// The kernelspec installer: where each target writes, and what kernel.json says.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { installKernelspec, kernelJson, kernelsDir, userDataDir } from "../../install/install-kernel.ts";

describe("install-kernel", () => {
  it("kernel.json runs this node on the kernel script with signal interrupts", () => {
    expect(kernelJson("/usr/bin/node", "/x/dist/kernel.js")).toEqual({
      argv: ["/usr/bin/node", "/x/dist/kernel.js", "-f", "{connection_file}"],
      display_name: "TypeScript (charm4ts)",
      language: "typescript",
      interrupt_mode: "signal",
      metadata: { debugger: false },
    });
  });

  it("resolves --user, --sys-prefix and --prefix the way Jupyter does", () => {
    const env = { HOME: "/home/u", JUPYTER_DATA_DIR: "/data/j", VIRTUAL_ENV: "/venv", PATH: "" };
    expect(userDataDir(env)).toBe("/data/j");
    expect(kernelsDir({ kind: "user" }, env)).toBe("/data/j/kernels");
    expect(kernelsDir({ kind: "sys-prefix" }, env)).toBe("/venv/share/jupyter/kernels");
    expect(kernelsDir({ kind: "prefix", prefix: "/opt/p" }, env)).toBe("/opt/p/share/jupyter/kernels");
    expect(() => kernelsDir({ kind: "sys-prefix" }, { PATH: "" })).toThrow(/--sys-prefix/);
  });

  it("writes <prefix>/share/jupyter/kernels/charm4ts/kernel.json, and refuses a missing script", () => {
    const dir = mkdtempSync(join(tmpdir(), "charm4ts-install-"));
    try {
      const script = join(dir, "kernel.js");
      expect(() => installKernelspec({ kind: "prefix", prefix: dir }, { kernelScript: script })).toThrow(/npm run build/);
      writeFileSync(script, "");
      const spec = installKernelspec({ kind: "prefix", prefix: dir }, { kernelScript: script });
      expect(spec).toBe(join(dir, "share/jupyter/kernels/charm4ts"));
      const json = JSON.parse(readFileSync(join(spec, "kernel.json"), "utf8"));
      expect(json.argv).toEqual([process.execPath, script, "-f", "{connection_file}"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
