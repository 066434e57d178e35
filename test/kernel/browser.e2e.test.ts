// The rich displays as a user sees them: Debian's classic Notebook (6.4) serves a notebook made
// for this test, Debian's Chromium (driven by playwright-core) runs every cell through the UI, and
// the assertions read the rendered DOM — SVGs with a size and their labels, tables with their
// headers, a progress bar updated in place, PE output in its cell, no error anywhere.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jupyterEnv, ROOT, type JupyterEnv } from "./jupyter-env.ts";
import { allCellsRan, closeBrowserAndServer, kernelReady, pageFailure, startNotebook, type NotebookServer } from "./classic-notebook.ts";
import { describeWith, hasTools } from "../system-tools.ts";
import { FIRST_HOUR, notebookJson, type FirstHourCell } from "./first-hour.ts";
import { screenshotDir } from "../temp-dir.ts";

const CHROMIUM = "/usr/bin/chromium";
/** Two PEs whatever the machine, so the PE rows below are known. */
const PES = 2;

/** The test notebook: one display per cell, keyed by a name the assertions use. */
const CELLS = {
  proxy: `class Adder extends Chare {
  add(x: number, done: Future<number>) { this.contribute(this.thisIndex[0] + x, Reducer.sum, done); }
  hello() { console.log(\`hello from element \${this.thisIndex[0]}\`); }
}
const adders = charm.array(Adder, 8);
adders`,
  futures: `const answer = new Future<number>();
display(answer);
answer.send(42);
await answer;
display(answer);`,
  status: "await charm.status()",
  timeline: `async function reduceThrice() {
  for (let i = 0; i < 3; i++) {
    const done = new Future<number>();
    adders.add(i, done);
    await done;
  }
}
await charm.timeline(reduceThrice)`,
  profile: "await charm.profile(reduceThrice)",
  barChart: `import { barChart, lineChart } from "charm4ts";
barChart({ before: [30, 10], after: [20, 20] }, { title: "load per PE", unit: "ms" })`,
  lineChart: `lineChart({ "time per step": [5, 4, 3.5, 3] }, { title: "time per step", unit: "ms" })`,
  progress: `const bar = progress(10, "steps");
for (let i = 0; i < 10; i++) {
  const done = new Future<number>();
  adders.add(i, done);
  await done;
  bar.tick();
}`,
  peOutput: "await adders.hello.awaitable();",
} as const;
type CellName = keyof typeof CELLS;
const names = Object.keys(CELLS) as CellName[];

const firstHourNames = Object.keys(FIRST_HOUR) as FirstHourCell[];

let je: JupyterEnv;
let server: NotebookServer | undefined;
let browser: Browser | undefined;
let page: Page;
let shots: string;
const pageErrors: string[] = [];

/** Opens the notebook, waits for its kernel, runs every cell through the UI and waits for the last. */
async function runAllCells(url: string): Promise<void> {
  await page.goto(url);
  await kernelReady(page);
  await page.evaluate(() => (globalThis as any).Jupyter.notebook.execute_all_cells());
  await allCellsRan(page, 40_000);
}

/** Screenshots of the whole notebook and of the timeline up close (its bars are the thinnest marks). */
async function takeScreenshots(): Promise<void> {
  // The notebook scrolls inside #site, not the page: grow the viewport to show every cell at once.
  const height = await page.evaluate(() => {
    const { document } = globalThis as any;
    return (document.querySelector("#header").scrollHeight as number) + (document.querySelector("#notebook").scrollHeight as number);
  });
  await page.setViewportSize({ width: 1280, height: Math.min(height, 8000) });
  await page.screenshot({ path: join(shots, "displays.png") });
  await page.locator(".cell.code_cell").nth(names.indexOf("timeline")).locator(".output_wrapper").screenshot({ path: join(shots, "timeline.png") });
}

beforeAll(async () => {
  if (!hasTools("notebook", "chromium", "widgets")) return; // the suites below are left out
  je = jupyterEnv();
  const work = join(je.dir, "work");
  // `import … from "charm4ts"` in a cell resolves from the notebook's folder, as after `npm install charm4ts`.
  mkdirSync(join(work, "node_modules"));
  symlinkSync(ROOT, join(work, "node_modules", "charm4ts"), "dir");
  writeFileSync(join(work, "displays.ipynb"), notebookJson(CELLS));
  writeFileSync(join(work, "first-hour.ipynb"), notebookJson(FIRST_HOUR));
  // Kept, to be looked at, when a test failed; always in CHARM4TS_SCREENSHOT_DIR when that is set.
  shots = screenshotDir("screenshots");

  const running = server = await startNotebook(je, work, { CHARM4TS_PES: String(PES) });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  try {
    await runAllCells(`${running.url}notebooks/displays.ipynb?token=${running.token}`);
  } catch (error) {
    throw await pageFailure(page, join(shots, "failure.png"), running, error);
  }
  await takeScreenshots();
}, 90_000);

afterAll(async () => {
  await closeBrowserAndServer(browser, server);
  je?.cleanup();
}, 30_000);

/** The output areas of a cell of the test notebook. */
function outputs(name: CellName): Locator {
  return page.locator(".cell.code_cell").nth(names.indexOf(name)).locator(".output_area .output_subarea");
}

/** Header cells of the HTML tables in a cell's outputs. */
async function headers(name: CellName): Promise<string[]> {
  return (await outputs(name).locator("table th").allInnerTexts()).map((s) => s.trim());
}

/** An SVG in a cell's output: its rendered size and its text labels. */
async function svgIn(name: CellName): Promise<{ width: number; height: number; texts: string[]; rects: number }> {
  const svg = outputs(name).locator("svg").first();
  const box = await svg.boundingBox();
  return {
    width: box?.width ?? 0,
    height: box?.height ?? 0,
    texts: (await svg.locator("text").allTextContents()).map((s) => s.trim()),
    rects: await svg.locator("rect").count(),
  };
}

describeWith("notebook", "chromium", "widgets")("rich displays in the classic Notebook, rendered by Chromium", () => {
  it("runs every cell, in order, without an error output or a page error", async () => {
    const counts = await page.evaluate(() =>
      (globalThis as any).Jupyter.notebook.get_cells().map((c: any) => c.input_prompt_number));
    expect(counts).toEqual(names.map((_, i) => i + 1));
    expect(await page.locator(".output_error").allInnerTexts()).toEqual([]);
    expect(await page.locator(".output_stderr").allInnerTexts()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("shows a proxy as a table of elements per PE", async () => {
    expect(await headers("proxy")).toEqual(["PE", "elements"]);
    await expect.poll(() => outputs("proxy").locator("caption").innerText()).toContain("Adder");
    const rows = await outputs("proxy").locator("table tr td:first-child").allInnerTexts();
    expect(rows).toEqual(["0", "1"]);
  });

  it("shows a future pending, then resolved with its value", async () => {
    const texts = (await outputs("futures").allInnerTexts()).map((s) => s.trim());
    expect(texts).toHaveLength(2);
    expect(texts[0]).toMatch(/^Future #\d+@driver pending$/);
    expect(texts[1]).toMatch(/^Future #\d+@driver resolved = 42$/);
  });

  it("shows charm.status() as a table with a row per PE", async () => {
    expect(await headers("status")).toEqual(["PE", "chares", "classes", "sent", "handled", "heap"]);
    expect(await outputs("status").locator("table tr td:first-child").allInnerTexts()).toEqual(["0", "1"]);
    expect(await outputs("status").locator("caption").innerText()).toContain(`${PES} PEs`);
  });

  it("draws charm.timeline() as an SVG with a row per PE and bars, beside its busy-time table", async () => {
    const svg = await svgIn("timeline");
    expect(svg.width).toBeGreaterThan(100);
    expect(svg.height).toBeGreaterThan(40);
    expect(svg.texts).toEqual(expect.arrayContaining(["PE 0", "PE 1", "0 ms", "Adder.add"]));
    // A background rect per PE row, a legend swatch, and at least one bar per PE.
    expect(svg.rects).toBeGreaterThanOrEqual(2 * PES + 1);
    expect(await headers("timeline")).toEqual(["PE", "entry method", "calls", "ms"]);
  });

  it("shows charm.profile() as a table by entry method", async () => {
    expect(await headers("profile")).toEqual(["entry method", "calls", "total ms", "mean µs", "max µs", "arg bytes", "ms per PE"]);
    expect(await outputs("profile").locator("table tr td:first-child").allInnerTexts()).toContain("Adder.add");
  });

  it("draws a bar chart and a line chart as SVG with titles, axes and legends", async () => {
    const bars = await svgIn("barChart");
    expect(bars.width).toBeGreaterThan(100);
    expect(bars.height).toBeGreaterThan(100);
    expect(bars.texts).toEqual(expect.arrayContaining(["load per PE", "ms", "PE 0", "PE 1", "before", "after"]));
    expect(await outputs("barChart").locator("svg rect.bar").count()).toBe(4);
    const line = await svgIn("lineChart");
    expect(line.width).toBeGreaterThan(100);
    expect(line.texts).toEqual(expect.arrayContaining(["time per step", "step", "time per step"]));
    expect(await outputs("lineChart").locator("svg circle.point").count()).toBe(4);
  });

  it("shows the progress bar once, as a widget (the widgets extension is there), in its final state", async () => {
    const area = page.locator(".cell.code_cell").nth(names.indexOf("progress")).locator(".widget-area");
    expect(await area.locator(".progress").count()).toBe(1);
    expect(await area.locator(".widget-label").allInnerTexts()).toEqual(["steps", "10/10 (100%)"]);
    expect(await area.locator(".progress-bar").evaluate((el: any) => el.style.width)).toBe("100%");
    // No text bar beside it.
    expect(await outputs("progress").count()).toBe(0);
  });

  it("shows what a chare printed on a PE in the cell that called it, with its PE label", async () => {
    const text = (await outputs("peOutput").allInnerTexts()).join("\n");
    const lines = text.split("\n").filter(Boolean).sort();
    expect(lines).toHaveLength(8);
    for (const line of lines) expect(line).toMatch(/^\[PE [01]\] hello from element \d$/);
    expect(lines.some((l) => l.startsWith("[PE 0]")) && lines.some((l) => l.startsWith("[PE 1]"))).toBe(true);
    // Only there: no line leaked into another cell's output.
    expect(await page.locator(".output_subarea", { hasText: "hello from element" }).count()).toBe(1);
  });

  it("shrinks every SVG to a narrow window without cutting off its labels", async () => {
    // The classic Notebook caps output SVGs at max-width: 100%; without a viewBox the drawing
    // would keep its size inside the smaller box and lose its right side.
    await page.setViewportSize({ width: 640, height: 900 });
    const svgs = page.locator(".output_subarea svg");
    expect(await svgs.count()).toBe(3);
    for (const svg of await svgs.all()) {
      await svg.scrollIntoViewIfNeeded();
      const { shrunk, outside } = await svg.evaluate((el: any) => {
        const box = el.getBoundingClientRect();
        const area = el.closest(".output_subarea").getBoundingClientRect();
        const outside = [...el.querySelectorAll("text")].filter((t: any) => {
          const r = t.getBoundingClientRect();
          return r.right > box.right + 1 || r.bottom > box.bottom + 1 || box.right > area.right + 1;
        }).map((t) => t.textContent as string);
        return { shrunk: box.width < Number(el.getAttribute("width")), outside };
      });
      expect(shrunk).toBe(true);
      expect(outside).toEqual([]);
    }
    await page.locator(".cell.code_cell").nth(names.indexOf("timeline")).screenshot({ path: join(shots, "narrow-timeline.png") });
  });
});

describeWith("notebook", "chromium", "widgets")("a first hour's notebook in the classic Notebook: every output under its own cell", () => {
  let hour: Page;
  /** The text of a first-hour cell's outputs, by kind. */
  const texts = async (name: FirstHourCell, kind: "output_error" | "output_stderr" | "output_stdout" | "output_result") =>
    (await hour.locator(".cell.code_cell").nth(firstHourNames.indexOf(name)).locator(`.${kind}`).allInnerTexts()).join("\n");

  beforeAll(async () => {
    hour = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    hour.on("pageerror", (e) => pageErrors.push(e.message));
    await hour.goto(`${server!.url}notebooks/first-hour.ipynb?token=${server!.token}`);
    await kernelReady(hour);
    // Every cell queued at once, as Run All does, but without stopping at the first error: the
    // errors are what this notebook is about.
    await hour.evaluate(() => { for (const cell of (globalThis as any).Jupyter.notebook.get_cells()) cell.execute(false); });
    // Once the stuck cell says it waits, interrupt from the toolbar.
    await hour.locator(".cell.code_cell").nth(firstHourNames.indexOf("stuck")).locator(".output_stdout", { hasText: "waiting for the stuck PE" }).waitFor({ timeout: 60_000 });
    await hour.locator('button[data-jupyter-action="jupyter-notebook:interrupt-kernel"]').click();
    await allCellsRan(hour, 60_000);
    await hour.screenshot({ path: join(shots, "first-hour.png"), fullPage: true });
  }, 120_000);
  afterAll(() => hour?.close());

  it("shows the type error under its cell, which ran anyway", async () => {
    expect(await texts("typeError", "output_stderr")).toMatch(/TypeScript \(the cell ran anyway\)[\s\S]*TS2322/);
    expect(await texts("typeError", "output_stdout")).toContain("ran anyway");
    for (const other of firstHourNames.filter((n) => n !== "typeError")) expect(await texts(other, "output_stderr")).not.toContain("TS2322");
  });

  it("shows remote errors readably under their cells: the entry method, no raw escape codes, no runtime frames", async () => {
    for (const name of ["remoteError", "processError"] as const) {
      const error = await texts(name, "output_error");
      expect(error).toContain("boom on purpose");
      expect(error).toMatch(/Boom\[\d\]\.boom/);
      expect(error).not.toMatch(/\x1b|\[0;3\dm/);
      expect(error).not.toMatch(/dist\/chunk-|EntryRunner|node:internal/);
    }
    for (const name of ["typeError", "classes", "stuck", "carriesOn", "processes"] as const) expect(await texts(name, "output_error")).not.toContain("boom on purpose");
  });

  it("interrupt from the toolbar stops the stuck cell, names the lost chares there, and the next cells carry on", async () => {
    const stuck = `${await texts("stuck", "output_error")}\n${await texts("stuck", "output_stderr")}`;
    expect(stuck).toContain("Interrupted");
    expect(stuck).toContain("Spin[1]");
    expect(await texts("carriesOn", "output_result")).toContain("0");
    expect(await texts("carriesOn", "output_error")).toBe("");
  });

  it("restarts on PE processes from a cell, without an error", async () => {
    expect(await texts("processes", "output_result")).toContain("3");
    expect(await texts("processes", "output_error")).toBe("");
  });
});
