// An output flood as a student sees it: in the classic Notebook (Chromium), every PE prints as
// fast as it can for 10 s. The page stays responsive throughout (its event loop answers, the
// output area stays within the limit), the flood's cell ends with its summary, and a later cell
// runs and shows its output.
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jupyterEnv, writeNotebook, type JupyterEnv } from "./jupyter-env.ts";
import { allCellsRan, closeBrowserAndServer, kernelReady, pageFailure, startNotebook, type NotebookServer } from "./classic-notebook.ts";
import { describeWith, hasTools } from "../system-tools.ts";
import { screenshotDir } from "../temp-dir.ts";
import { DEFAULT_BURST_KB, DEFAULT_RATE_KB } from "../../runtime/pe/output-budget.ts";

const FLOOD_MS = 10_000;
const CELLS = {
  flood: `class Flood extends Chare {
  spin(ms: number): number {
    const start = Date.now();
    let n = 0;
    while (Date.now() - start < ms) console.log("flood line", n++, "from PE", charm.myPe());
    return n;
  }
}
const floods = charm.array(Flood, charm.numPes());
const printed = await floods.spin.ret(${FLOOD_MS});
console.log("the flood printed", printed.reduce((a: number, b: number) => a + b), "lines");`,
  later: `console.log("a later cell ran");\n6 * 7`,
} as const;

let je: JupyterEnv;
let server: NotebookServer | undefined;
let browser: Browser | undefined;
let page: Page;
/** How long the page took to answer a round trip into its event loop, sampled while the cells ran. */
const stalls: number[] = [];
let floodStarted = 0;
let ranMs = 0;

beforeAll(async () => {
  if (!hasTools("notebook", "chromium")) return;
  je = jupyterEnv();
  const work = join(je.dir, "work");
  writeNotebook(join(work, "flood.ipynb"), Object.values(CELLS));
  server = await startNotebook(je, work, { CHARM4TS_PES: "2" });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${server.url}notebooks/flood.ipynb?token=${server.token}`);
  await kernelReady(page);
  floodStarted = performance.now();
  await page.evaluate(() => (globalThis as any).Jupyter.notebook.execute_all_cells());
  // While the cells run, ask the page's own event loop for a frame again and again: a page
  // drowning in output answers late or not at all.
  let running = true;
  const ran = allCellsRan(page, 120_000).finally(() => (running = false));
  const sampling = (async () => {
    while (running) {
      const asked = performance.now();
      await page.evaluate(() => new Promise((resolve) => (globalThis as any).requestAnimationFrame(resolve)));
      stalls.push(performance.now() - asked);
    }
  })();
  try {
    await ran;
  } catch (error) {
    throw await pageFailure(page, join(screenshotDir("screenshots"), "flood-failure.png"), server, error);
  } finally {
    ranMs = performance.now() - floodStarted;
    await sampling;
  }
}, 180_000);

afterAll(async () => {
  await closeBrowserAndServer(browser, server);
  je?.cleanup();
}, 30_000);

/** The text of a cell's outputs of one kind. */
const texts = async (index: number, kind: "output_stderr" | "output_stdout" | "output_result" | "output_error") =>
  (await page.locator(".cell.code_cell").nth(index).locator(`.${kind}`).allInnerTexts()).join("\n");

describeWith("notebook", "chromium")("every PE flooding for 10 s in the classic Notebook", () => {
  it("the page stays responsive: it answered all through the flood", () => {
    console.info(`flood in the browser: ${stalls.length} frames asked in ${Math.round(ranMs)} ms, slowest ${Math.round(Math.max(...stalls))} ms`);
    expect(ranMs).toBeGreaterThan(FLOOD_MS);
    // A round trip at least every second or so throughout; none stuck for long.
    expect(stalls.length).toBeGreaterThan(FLOOD_MS / 1000);
    expect(Math.max(...stalls)).toBeLessThan(3000);
  });

  it("the flood's cell shows at most the limit, then says what it didn't show, per PE", async () => {
    const shown = await texts(0, "output_stdout");
    expect(Buffer.byteLength(shown)).toBeLessThan(DEFAULT_BURST_KB * 1024 + (DEFAULT_RATE_KB * 1024 * ranMs) / 1000);
    expect(shown).toMatch(/the flood printed \d+ lines/);
    const stderr = await texts(0, "output_stderr");
    for (const pe of [0, 1]) expect(stderr).toMatch(new RegExp(`… [\\d,]+ lines \\([\\d.]+ [kM]B\\) from PE ${pe} not shown in this cell; charm.output\\(${pe}\\) returns its last lines`));
    expect(await texts(0, "output_error")).toBe("");
  });

  it("a later cell runs and its output appears", async () => {
    expect((await texts(1, "output_stdout")).trim()).toBe("a later cell ran");
    expect(await texts(1, "output_result")).toContain("42");
  });
});
