// The kernelspec installer: where each target writes, and what kernel.json says.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { closedToOthers, installKernelspec, kernelJson, kernelsDir, userDataDir } from "../../install/install-kernel.ts";
import { ROOT } from "./jupyter-env.ts";

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

  it("--system installs where every user's Jupyter looks; one target at a time", () => {
    expect(kernelsDir({ kind: "system" }, {})).toBe(process.platform === "win32" ? "C:\\ProgramData\\jupyter\\kernels" : "/usr/local/share/jupyter/kernels");
    const r = spawnSync(process.execPath, [join(ROOT, "dist/install-kernel.js"), "--system", "--user"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("choose one of --user, --sys-prefix, --system, --prefix P");
  });

  it("writes a kernelspec every user can read whatever the umask, and tells when the checkout is closed to others", () => {
    const dir = mkdtempSync(join(tmpdir(), "charm4ts-install-"));
    const umask = process.umask(0o077);
    try {
      const checkout = join(dir, "checkout");
      mkdirSync(checkout);
      const script = join(checkout, "kernel.js");
      writeFileSync(script, "");
      const spec = installKernelspec({ kind: "prefix", prefix: join(dir, "prefix") }, { kernelScript: script });
      expect(statSync(spec).mode & 0o777).toBe(0o755);
      expect(statSync(join(spec, "kernel.json")).mode & 0o777).toBe(0o644);
      // The umask made the script and its folder private: another user couldn't run the kernel.
      expect(closedToOthers(script)).toBe(script);
      chmodSync(script, 0o644);
      chmodSync(dir, 0o755);
      expect(closedToOthers(script)).toBe(checkout);
      chmodSync(checkout, 0o755);
      expect(closedToOthers(script)).toBeUndefined();
    } finally {
      process.umask(umask);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
