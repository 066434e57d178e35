// notebooks/steering.ipynb as a user runs it: Debian's classic Notebook with its widgets extension
// (ipywidgets 6) in Chromium, driven by playwright-core. Run All; while the simulation cell runs,
// the test drags the speed slider and checks that every cell of the simulation (on both PEs) steps
// with the new speed (the status line is a max-reduction of what each cell used), that the
// progress bar advanced, that the checkpoint button saves the running simulation between two
// steps while the run goes on (the last cell restores it: every particle there), and that the stop
// button ends the run cleanly, losing no particle.
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jupyterEnv, ROOT, type JupyterEnv } from "./jupyter-env.ts";
import { closeBrowserAndServer, pageFailure, startNotebook, type NotebookServer } from "./classic-notebook.ts";
import { describeWith, hasTools } from "../system-tools.ts";
import { screenshotDir } from "../temp-dir.ts";

const CHROMIUM = "/usr/bin/chromium";

let je: JupyterEnv;
let server: NotebookServer | undefined;
let browser: Browser | undefined;
let page: Page;
let shots: string;
const pageErrors: string[] = [];
/** The status line before and after the drag, the slider's value after it, the progress seen mid-run. */
const seen = { before: "", after: "", slider: "", progress: "", progressWidth: 0, checkpoint: "", afterCheckpoint: "" };

/** The notebook's code cells, in order. */
const codeIds = ["constants", "cell-class", "controls", "run", "after"];
/** A code cell by its id in steering.ipynb. */
const codeCell = (id: string): Locator => page.locator(".cell.code_cell").nth(codeIds.indexOf(id));
/** The status line: an HTML widget the run cell rewrites at every step. */
const status = (): Locator => codeCell("controls").locator(".widget-area .widget-html-content");

/** Waits until `locator` shows text matching `re`, failing after `ms` with what it waited for. */
async function showing(locator: Locator, re: RegExp, ms: number, what: string): Promise<void> {
  await locator.filter({ hasText: re }).waitFor({ timeout: ms }).catch((error: Error) => {
    throw new Error(`waited ${ms / 1000} s for ${what}: ${error.message.split("\n")[0]}`);
  });
}

beforeAll(async () => {
  if (!hasTools("notebook", "chromium", "widgets")) return; // the suite below is left out
  je = jupyterEnv();
  const work = join(je.dir, "work");
  copyFileSync(join(ROOT, "notebooks", "steering.ipynb"), join(work, "steering.ipynb"));
  shots = screenshotDir("screenshots");
  // Two PEs whatever the machine; the run's default 30 s, which the stop button cuts short.
  const running = server = await startNotebook(je, work, { CHARM4TS_PES: "2" });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  try {
    await page.goto(`${running.url}notebooks/steering.ipynb?token=${running.token}`);
    // The kernel is idle and the extension's widget manager has done its version handshake.
    await page.waitForFunction(() => {
      const { Jupyter, document } = globalThis as any;
      return Jupyter?.notebook?.kernel?.is_connected() && Jupyter.notebook.kernel.widget_manager !== undefined &&
        document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
    }, undefined, { timeout: 30_000 });
    await page.evaluate(() => (globalThis as any).Jupyter.notebook.execute_all_cells());

    // The run has started once the status line counts steps.
    await showing(status(), /^step \d+: speed 0\.10 in every cell/, 60_000, "the status line to count steps");
    seen.before = await status().innerText();

    // Drag the slider's handle to about 80% of its track (speed ≈ 0.40) while the run goes on.
    const slider = codeCell("controls").locator(".widget-hslider");
    await slider.scrollIntoViewIfNeeded(); // the mouse acts on what the viewport shows
    const track = await slider.locator(".ui-slider").boundingBox();
    const handle = await slider.locator(".ui-slider-handle").boundingBox();
    if (!track || !handle) throw new Error("the speed slider is not rendered");
    await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await page.mouse.down();
    await page.mouse.move(track.x + track.width * 0.6, track.y + track.height / 2, { steps: 5 });
    await page.mouse.move(track.x + track.width * 0.8, track.y + track.height / 2, { steps: 5 });
    await page.mouse.up();
    seen.slider = (await slider.locator(".widget-readout").innerText()).trim();
    // Every cell has stepped with the slider's value: min and max of what the cells used agree.
    await showing(status(), new RegExp(`speed ${seen.slider.replace(".", "\\.")} in every cell`), 30_000, `every cell to step with speed ${seen.slider}`);
    seen.after = await status().innerText();
    await showing(codeCell("run").locator(".widget-area .jupyter-widgets.widget-label"), /^[1-9]\d*\/30 /, 10_000, "the progress bar to advance");
    seen.progress = await codeCell("run").locator(".widget-area .jupyter-widgets.widget-label").innerText();
    seen.progressWidth = await codeCell("run").locator(".widget-area .progress-bar").evaluate((el: any) => parseFloat(el.style.width));
    await page.screenshot({ path: join(shots, "steering-running.png") });

    // A checkpoint of the running simulation: taken between two steps, then the run goes on.
    await codeCell("controls").locator("button.widget-button", { hasText: "checkpoint" }).click();
    await showing(status(), /· checkpoint at step \d+: 32 cells/, 30_000, "the status line to report the checkpoint");
    seen.checkpoint = await status().innerText();
    const savedAt = Number(/checkpoint at step (\d+)/.exec(seen.checkpoint)![1]);
    const stepNow = async () => Number(/^step (\d+)/.exec(await status().innerText())?.[1]);
    const line = await status().elementHandle();
    await page.waitForFunction(({ el, past }) => Number(/^step (\d+)/.exec((el as any).innerText)?.[1]) > past, { el: line, past: savedAt + 5 }, { timeout: 30_000, polling: 50 })
      .catch((error: Error) => { throw new Error(`waited 30 s for the run to go on past step ${savedAt + 5} after the checkpoint: ${error.message.split("\n")[0]}`); });
    seen.afterCheckpoint = `step ${await stepNow()}`;

    await codeCell("controls").locator("button.widget-button", { hasText: "stop" }).click();
    await page.waitForFunction(() => {
      const { Jupyter, document } = globalThis as any;
      return Jupyter.notebook.get_cells().filter((c: any) => c.cell_type === "code").every((c: any) => typeof c.input_prompt_number === "number") &&
        document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
    }, undefined, { timeout: 30_000, polling: 100 });
    await page.screenshot({ path: join(shots, "steering-stopped.png"), fullPage: true });
  } catch (error) {
    throw await pageFailure(page, join(shots, "steering-failure.png"), running, error);
  }
}, 180_000);

afterAll(async () => {
  await closeBrowserAndServer(browser, server);
  je?.cleanup();
}, 30_000);

describeWith("notebook", "chromium", "widgets")("steering.ipynb in the classic Notebook with its widgets, in Chromium", () => {
  it("shows the slider, the stop button and the status line as widgets", async () => {
    const area = codeCell("controls").locator(".widget-area");
    expect(await area.locator(".widget-hslider").count()).toBe(1);
    expect(await area.locator("button.widget-button").allInnerTexts()).toEqual([expect.stringContaining("stop"), expect.stringContaining("checkpoint")]);
    expect(seen.before).toMatch(/max particles per cell \d+/);
  });

  it("a slider drag during the run reaches every cell on every PE: the reduction of the speeds they used agrees with the slider", () => {
    expect(seen.slider).toMatch(/^0\.\d\d$/);
    expect(seen.slider).not.toBe("0.10");
    expect(Number(seen.slider)).toBeGreaterThan(0.2);
    expect(seen.after).toContain(`speed ${seen.slider} in every cell`);
  });

  it("advanced the progress bar while the run went on", () => {
    expect(seen.progress).toMatch(/^[1-9]\d*\/30 \(\d+%\)$/);
    expect(seen.progressWidth).toBeGreaterThan(0);
  });

  it("the checkpoint button saves the running simulation between two steps, the run goes on, and the checkpoint holds every particle", async () => {
    expect(seen.checkpoint).toMatch(/· checkpoint at step \d+: 32 cells, \d+\.\d MB in \d+ ms$/);
    const savedAt = Number(/checkpoint at step (\d+)/.exec(seen.checkpoint)![1]);
    expect(Number(/^step (\d+)/.exec(seen.afterCheckpoint)![1])).toBeGreaterThan(savedAt + 5);
    expect(await codeCell("after").locator(".output_result").innerText()).toContain("its checkpoint restores all 30000");
  });

  it("stop ends the run before its time, cleanly: no particle lost, no error anywhere", async () => {
    const result = (await codeCell("run").locator(".output_result").innerText()).trim();
    expect(result).toMatch(/stopped by the button after \d+ steps \((\d+\.\d) s\)/);
    const seconds = Number(/\((\d+\.\d) s\)/.exec(result)![1]);
    expect(seconds).toBeLessThan(30);
    expect(await status().innerText()).toMatch(/— stopped by the button$/);
    expect(await codeCell("after").locator(".output_result").innerText()).toContain("30000 particles, as many as at the start");
    // The charts drew as widgets, updated in place: one SVG each, none as an output.
    expect(await codeCell("run").locator(".widget-area .widget-html-content svg").count()).toBe(2);
    expect(await codeCell("run").locator(".output_subarea svg").count()).toBe(0);
    expect(await page.locator(".output_error").allInnerTexts()).toEqual([]);
    // A type check given up on a loaded machine (the language process runs at nice 19) says so on
    // stderr; that is the kernel's notice, not an error of the notebook.
    const stderr = (await page.locator(".output_stderr").allInnerTexts()).filter((t) => !/^TypeScript: checking this cell took over \d+ s/.test(t));
    expect(stderr).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
