// The system tools some end-to-end tests drive: Debian's Jupyter, Chromium, MPI launchers,
// Slurm, sshd and network namespaces. `npm run setup-system` installs them (.ci/run too). Where
// one is missing, the suites that need it are skipped, and the run ends with one summary naming
// the missing tools and that command; under CHARM4TS_CI=1 such a suite fails instead, so CI
// can never go green by skipping. Detected once per run, cheaply (file checks and one Python
// start), in vitest's global setup; suites read the result with `inject`.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { availableParallelism, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import type { TestProject } from "vitest/node";
import { describe, inject, it } from "vitest";

/** Debian's Python: where jupyter_server, nbconvert and jupyter_kernel_test live. */
const PYTHON = "/usr/bin/python3";

/** What a tool is, how to tell it is here, and which Debian packages bring it (all of them in scripts/setup-system.sh). */
interface Tool {
  what: string;
  packages: string[];
  /** Absent parts ("" when present); `python` is the set of Python modules Debian's Python has. */
  lacks(python: ReadonlySet<string>): string;
}

const executables = (...names: string[]) => () => {
  const absent = names.filter((name) => !onPath(name));
  return absent.length ? `no ${absent.join(", ")}` : "";
};
const modules = (...names: string[]) => (python: ReadonlySet<string>) => {
  const absent = names.filter((name) => !python.has(name));
  return absent.length ? `no Python module ${absent.join(", ")} in ${PYTHON}` : "";
};
const file = (path: string) => () => (existsSync(path) ? "" : `no ${path}`);

/** Every tool a suite may need, by the name suites and the summary use. */
export const SYSTEM_TOOLS = {
  jupyter_client: { what: "Jupyter's Python client", packages: ["python3-jupyter-client"], lacks: modules("jupyter_client") },
  jupyter_server: { what: "Jupyter server", packages: ["python3-jupyter-server", "python3-jupyter-client"], lacks: modules("jupyter_server", "jupyter_client") },
  nbconvert: { what: "nbconvert", packages: ["jupyter-nbconvert", "python3-nbconvert"], lacks: modules("nbconvert", "nbclient", "jupyter_client") },
  jupyter_kernel_test: { what: "jupyter_kernel_test", packages: ["python3-jupyter-kernel-test"], lacks: modules("jupyter_kernel_test", "jupyter_client") },
  notebook: { what: "the classic Notebook", packages: ["jupyter-notebook"], lacks: modules("notebook.notebookapp") },
  chromium: { what: "Chromium", packages: ["chromium", "fonts-liberation"], lacks: file("/usr/bin/chromium") },
  widgets: {
    what: "the classic Notebook's widgets extension (ipywidgets 6), enabled",
    packages: ["python3-ipywidgets", "jupyter-nbextension-jupyter-js-widgets"],
    lacks: () => file("/usr/share/jupyter/nbextensions/jupyter-js-widgets/extension.js")() || file("/etc/jupyter/nbconfig/notebook.d/jupyter-js-widgets.json")(),
  },
  mpirun: { what: "Open MPI's mpirun", packages: ["openmpi-bin"], lacks: () => (onPath("mpirun.openmpi") || onPath("mpirun") ? "" : "no mpirun") },
  "mpiexec.mpich": { what: "MPICH's mpiexec", packages: ["mpich"], lacks: executables("mpiexec.mpich") },
  slurm: { what: "Slurm and munge", packages: ["munge", "slurmctld", "slurmd", "slurm-client"], lacks: executables("munged", "slurmctld", "slurmd", "srun", "sinfo", "squeue") },
  sshd: { what: "OpenSSH's sshd and ssh", packages: ["openssh-server", "procps"], lacks: () => file("/usr/sbin/sshd")() || executables("ssh", "ssh-keygen", "ps")() },
  netns: {
    what: "network namespaces, made as root with ip",
    packages: ["iproute2"],
    lacks: () => executables("ip", "ss")() || (process.getuid?.() === 0 ? "" : "not root: these tests make network namespaces, run them as root"),
  },
  cgroups: {
    what: "a cgroup filesystem with the cpu controller, and root to make cgroups in it",
    packages: [],
    lacks: () => {
      const mounts = existsSync("/proc/self/mountinfo") ? readFileSync("/proc/self/mountinfo", "utf8") : "";
      if (!/ - cgroup2? /.test(mounts)) return "no cgroup filesystem mounted";
      if (process.getuid?.() !== 0) return "not root: these tests make cgroups, run them as root";
      return availableParallelism() >= 2 ? "" : "one core: telling a quota from the core count takes two";
    },
  },
} satisfies Record<string, Tool>;

/** A tool's name. */
export type SystemTool = keyof typeof SYSTEM_TOOLS;

/** The one command that installs every tool. */
export const INSTALL_COMMAND = "npm run setup-system";

declare module "vitest" {
  export interface ProvidedContext {
    /** Missing tools, each with what is absent. */
    missingSystemTools: Array<[SystemTool, string]>;
    /** Where suites note what they skipped (or failed) for missing tools: one line each. */
    systemToolsLog: string;
  }
}

function onPath(name: string): boolean {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin"];
  return dirs.some((dir) => {
    try {
      return statSync(join(dir, name)).isFile();
    } catch {
      return false;
    }
  });
}

/** The Python modules (of those the tools need) that Debian's Python has: one start of it, no imports. */
function pythonModules(): Set<string> {
  if (!existsSync(PYTHON)) return new Set();
  const wanted = ["jupyter_server", "jupyter_client", "nbconvert", "nbclient", "jupyter_kernel_test", "notebook.notebookapp"];
  // find_spec of a submodule imports its package: the classic Notebook's app is looked for as a file.
  const script = `
import importlib.util, json, os, sys
def found(name):
    top, _, sub = name.partition(".")
    try:
        spec = importlib.util.find_spec(top)
    except Exception:
        return False
    if spec is None or not sub:
        return spec is not None
    return any(os.path.exists(os.path.join(d, sub + ".py")) for d in (spec.submodule_search_locations or []))
print(json.dumps([n for n in sys.argv[1:] if found(n)]))`;
  const r = spawnSync(PYTHON, ["-c", script, ...wanted], { encoding: "utf8", env: { ...process.env, PYTHONNOUSERSITE: "1" } });
  try {
    return new Set(JSON.parse(r.stdout) as string[]);
  } catch {
    return new Set();
  }
}

/**
 * Which tools are missing, and what of each. CHARM4TS_PRETEND_MISSING (comma-separated names)
 * makes tools count as missing: how the tests of this module simulate a bare machine.
 */
export function detectMissingTools(env: NodeJS.ProcessEnv = process.env): Array<[SystemTool, string]> {
  const pretend = (env.CHARM4TS_PRETEND_MISSING ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = pretend.filter((name) => !(name in SYSTEM_TOOLS));
  if (unknown.length) throw new Error(`CHARM4TS_PRETEND_MISSING names unknown tools (${unknown.join(", ")}); known: ${Object.keys(SYSTEM_TOOLS).join(", ")}`);
  const python = pythonModules();
  const missing: Array<[SystemTool, string]> = [];
  for (const [name, tool] of Object.entries(SYSTEM_TOOLS) as Array<[SystemTool, Tool]>) {
    const absent = pretend.includes(name) ? "pretended missing (CHARM4TS_PRETEND_MISSING)" : tool.lacks(python);
    if (absent) missing.push([name, absent]);
  }
  return missing;
}

/** Whether this run is CI's: a suite whose tools are missing fails instead of being skipped. */
function strict(): boolean {
  return process.env.CHARM4TS_CI === "1";
}

let missingHere: Map<SystemTool, string> | undefined;
function missing(tools: SystemTool[]): Array<[SystemTool, string]> {
  // Detected once by the global setup; a run without it (another config) detects here.
  missingHere ??= new Map(inject("missingSystemTools") ?? detectMissingTools());
  return tools.flatMap((tool) => (missingHere!.has(tool) ? [[tool, missingHere!.get(tool)!] as [SystemTool, string]] : []));
}

/** Whether every one of `tools` is here (for a hook shared by suites that need them). */
export function hasTools(...tools: SystemTool[]): boolean {
  return missing(tools).length === 0;
}

/**
 * `describe` for a suite that drives system tools (its hooks inside it): run when they are all
 * here; else skipped and named in the run's summary — or, under CHARM4TS_CI=1, replaced by one
 * test that fails, naming the tools and the command that installs them.
 */
export function describeWith(...tools: SystemTool[]): (name: string, body: () => void) => void {
  const absent = missing(tools);
  if (absent.length === 0) return describe;
  const names = absent.map(([tool]) => tool);
  return (name, body) => {
    note(names, name);
    if (!strict()) return describe.skip(name, body);
    describe(name, () => {
      it(`needs ${names.join(", ")}`, () => {
        const why = absent.map(([tool, what]) => `${tool} (${SYSTEM_TOOLS[tool].what}): ${what}`).join("; ");
        const packages = absent.flatMap(([tool]) => SYSTEM_TOOLS[tool].packages);
        throw new Error(`missing system tools, and CHARM4TS_CI=1 fails rather than skips: ${why}. Install them: ${INSTALL_COMMAND} (apt-get install ${packages.join(" ")})`);
      });
    });
  };
}

/** Notes a suite left out for missing tools, for the summary at the end of the run. */
function note(tools: SystemTool[], suite: string): void {
  const log = inject("systemToolsLog");
  if (log) appendFileSync(log, `${JSON.stringify({ tools, suite, failed: strict() })}\n`);
}

/** The summary of a run: one paragraph naming the missing tools and the command that installs them ("" when nothing was left out). */
export function summary(lines: string[]): string {
  const notes = lines.filter(Boolean).map((line) => JSON.parse(line) as { tools: SystemTool[]; suite: string; failed: boolean });
  if (notes.length === 0) return "";
  const tools = [...new Set(notes.flatMap((n) => n.tools))].sort();
  const failed = notes.some((n) => n.failed);
  const suites = notes.length === 1 ? "1 suite" : `${notes.length} suites`;
  const what = tools.map((tool) => `${tool} (${SYSTEM_TOOLS[tool].what})`).join(", ");
  return `${suites} ${failed ? "failed (CHARM4TS_CI=1)" : "skipped"}: missing system tools ${what}. ` +
    `Install them with \`${INSTALL_COMMAND}\` (Debian/Ubuntu, apt-get as root), then run the tests again.`;
}

/** vitest global setup: detects the tools once, and prints the summary when the run ends. */
export function setup(project: TestProject): () => void {
  // Detected first: an unknown name in CHARM4TS_PRETEND_MISSING throws, and then no folder is left.
  const missing = detectMissingTools();
  const dir = mkdtempSync(join(tmpdir(), "charm4ts-system-tools-"));
  const log = join(dir, "skipped.jsonl");
  project.provide("missingSystemTools", missing);
  project.provide("systemToolsLog", log);
  return () => {
    const text = summary(existsSync(log) ? readFileSync(log, "utf8").split("\n") : []);
    rmSync(dir, { recursive: true, force: true });
    if (text) console.log(`\n${text}\n`);
  };
}
