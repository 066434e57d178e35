// The project's notebooks as a JupyterLab 4 user sees them: JupyterLab's own notebook panel,
// output area and renderers (bundled from its npm packages by ./lab/bundle.ts) against Debian's
// jupyter_server, in Debian's Chromium. Cells run with Shift+Enter one by one and with Run All;
// widgets render through JupyterLab's widget manager, and a slider is dragged while a cell runs;
// the assertions read JupyterLab's DOM. Screenshots of a notebook are kept when a test fails.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Locator } from "playwright-core";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { ROOT } from "./jupyter-env.ts";
import { FIRST_HOUR, notebookJson, type FirstHourCell } from "./first-hour.ts";
import { cellIds, LabNotebook, startLab, type Lab } from "./lab/page.ts";
import { dragSlider, showing, views, widgetManagerReady } from "./lab/widgets.ts";
import { describeWith, hasTools } from "../system-tools.ts";

/** Two PEs whatever the machine, so the PE labels below are known. */
const PES = 2;
const NOTEBOOKS = ["tour.ipynb", "load-balancing.ipynb", "remote-pes.ipynb", "steering.ipynb"] as const;
const sources = Object.fromEntries(NOTEBOOKS.map((name) => [name, readFileSync(join(ROOT, "notebooks", name), "utf8")]));
const firstHour = notebookJson(FIRST_HOUR);

let lab: Lab;

beforeAll(async () => {
  if (!hasTools("jupyter_server", "chromium")) return; // the suites below are left out
  lab = await startLab({ ...sources, "first-hour.ipynb": firstHour }, { CHARM4TS_PES: String(PES) });
}, 180_000);

afterAll(async () => {
  await lab?.close();
}, 60_000);

/** Opens `name` for a suite, screenshots it when one of the suite's tests fails, shuts its kernel down after. */
function useNotebook(name: string, json: string, run: (nb: LabNotebook) => Promise<void>): () => LabNotebook {
  let nb: LabNotebook | undefined;
  beforeAll(async () => {
    nb = await LabNotebook.open(lab, name, cellIds(json));
    try {
      await run(nb);
    } catch (error) {
      const shot = await nb.screenshot(lab, `${name}-setup-failure.png`).catch(() => "(no screenshot)");
      const pageErrors = lab.pageErrors.length ? lab.pageErrors.join("\n") : "none";
      throw new Error(`${(error as Error).message}\nscreenshot: ${shot}\npage errors: ${pageErrors}\njupyter_server log:\n${lab.server.log().slice(-3000)}`);
    }
  }, 300_000);
  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      const shot = await nb?.screenshot(lab, `${name}-${task.name.replace(/\W+/g, "-").slice(0, 60)}.png`);
      console.log(`screenshot of ${name}: ${shot}`);
    });
  });
  afterAll(async () => {
    await nb?.close();
  }, 60_000);
  return () => nb!;
}

/** An SVG in a cell's output, scrolled into view: its rendered size and its labels. */
async function svgIn(nb: LabNotebook, id: string, index = 0): Promise<{ width: number; height: number; texts: string[] }> {
  const svg = nb.html(id).locator("svg").nth(index);
  await svg.scrollIntoViewIfNeeded();
  const box = await svg.boundingBox();
  return { width: box?.width ?? 0, height: box?.height ?? 0, texts: (await svg.locator("text").allTextContents()).map((s) => s.trim()) };
}

/** What every run of a notebook must show: every code cell counted in order, no error, no page error. */
async function ranCleanly(nb: LabNotebook, first: number): Promise<void> {
  const counts = Object.values(await nb.counts());
  expect(counts).toEqual(counts.map((_, i) => String(first + i)));
  expect(await nb.everywhere("error")).toEqual([]);
  expect(lab.pageErrors).toEqual([]);
}

/** The tour's outputs, the same after cell by cell and after Run All. */
async function tourOutputs(nb: LabNotebook): Promise<void> {
  expect(await nb.text("c1", "result")).toBe(String(PES));
  // What the chares printed on their PEs, all in the cell that called them, each line with its PE.
  const hello = (await nb.text("c3", "stdout")).split("\n").filter(Boolean);
  expect(hello).toHaveLength(8);
  for (const line of hello) {
    const m = /^\[PE (\d)\] Hello from chare: \d on PE (\d)$/.exec(line);
    expect(m, line).not.toBeNull();
    expect(m![1]).toBe(m![2]);
  }
  expect((await nb.everywhere("stdout")).filter(([, text]) => text.includes("Hello from chare")).map(([id]) => id)).toEqual(["c3"]);
  // The proxy as a table of its elements per PE.
  expect(await nb.html("c5").locator("table th").allTextContents()).toEqual(["PE", "elements"]);
  expect(await nb.text("c7", "result")).toBe("'Fib(12) = 144'");
  expect(await nb.text("c10", "result")).toBe("4950");
  expect(await nb.text("c12", "stdout")).toContain("RangeError: division by zero (raised on PE 1 in Fragile[3].divide)");
  expect(await nb.text("c14", "result")).toBe("125");
  // The timeline: an SVG at a readable size with a row per PE, beside its table.
  const timeline = await svgIn(nb, "c18");
  expect(timeline.width).toBeGreaterThan(300);
  expect(timeline.height).toBeGreaterThan(40);
  expect(timeline.height).toBeLessThan(1000);
  expect(timeline.texts).toEqual(expect.arrayContaining(["PE 0", "PE 1", "0 ms"]));
  expect(await nb.html("c18").locator("table th").allTextContents()).toEqual(["PE", "entry method", "calls", "ms"]);
  // The progress bar updated in place: one output, a progress widget in its final state.
  expect(await nb.outputs("c20").count()).toBe(1);
  const bar = views(nb, "c20");
  expect((await bar.locator(".widget-hprogress .widget-label").innerText()).trim()).toBe("reductions");
  expect(await bar.locator(".jupyter-widgets.widget-label").innerText()).toBe("20/20 (100%)");
  expect(await bar.locator(".progress-bar").evaluate((el: any) => el.style.width)).toBe("100%");
  expect(await nb.text("c22", "result")).toContain("6171 (261 steps)");
  expect(await nb.html("c24").locator("table tr td:first-child").allTextContents()).toEqual(["0", "1"]);
}

describeWith("jupyter_server", "chromium")("the tour in JupyterLab, cell by cell and with Run All", () => {
  const nb = useNotebook("tour.ipynb", sources["tour.ipynb"]!, async (nb) => {
    await nb.runCellByCell();
  });

  it("runs every cell with Shift+Enter, each output under its own cell", async () => {
    await ranCleanly(nb(), 1);
    await tourOutputs(nb());
  });

  it("runs again with Run All in the same kernel: the same outputs, replaced in place", async () => {
    await nb().runAll();
    await ranCleanly(nb(), 14);
    await tourOutputs(nb());
  }, 300_000);
});

describeWith("jupyter_server", "chromium")("load balancing in JupyterLab, with Run All", () => {
  const nb = useNotebook("load-balancing.ipynb", sources["load-balancing.ipynb"]!, (nb) => nb.runAll());

  it("runs every cell without an error", async () => {
    await ranCleanly(nb(), 1);
    expect(await nb().text("c1", "result")).toContain("placement");
    expect(await nb().text("c3", "result")).toContain("greedy");
    expect(await nb().text("c7", "result")).toContain(`migrated() ran on PE ${PES - 1}`);
  });

  it("draws the bar chart and the line chart at a readable size, with their titles and legends", async () => {
    const bars = await svgIn(nb(), "c4");
    expect(bars.width).toBeGreaterThan(300);
    expect(bars.height).toBeGreaterThan(100);
    expect(bars.height).toBeLessThan(1000);
    expect(bars.texts).toEqual(expect.arrayContaining(["PE 0", "PE 1", "measured before", "planned", "measured after"]));
    const line = await svgIn(nb(), "c5");
    expect(line.width).toBeGreaterThan(300);
    expect(line.height).toBeGreaterThan(100);
    expect(line.texts).toEqual(expect.arrayContaining(["time per step", "before balancing", "after balancing"]));
  });
});

describeWith("jupyter_server", "chromium")("PEs in processes in JupyterLab, with Run All", () => {
  const nb = useNotebook("remote-pes.ipynb", sources["remote-pes.ipynb"]!, (nb) => nb.runAll());

  it("runs every cell without an error, the killed PE's loss under its own cell", async () => {
    await ranCleanly(nb(), 1);
    expect(await nb().text("remote-11", "result")).toContain("isPeLostError: true");
    expect(await nb().text("remote-12", "result")).toContain("pe0Answers: 42");
    const bars = await svgIn(nb(), "remote-6");
    expect(bars.width).toBeGreaterThan(300);
    expect(bars.height).toBeGreaterThan(100);
    expect(bars.texts).toEqual(expect.arrayContaining(["threads", "processes"]));
    // The cell that killed the PE heard of it through its call's PeLostError: nothing else reports the loss, anywhere.
    const deaths = (await nb().everywhere("stderr")).filter(([, text]) => /PE 1/.test(text));
    expect(deaths.map(([id]) => id)).toEqual([]);
  });
});

describeWith("jupyter_server", "chromium")("a first hour's notebook in JupyterLab: errors readable, interrupt from the toolbar", () => {
  const names = Object.keys(FIRST_HOUR) as FirstHourCell[];
  const nb = useNotebook("first-hour.ipynb", firstHour, async (nb) => {
    for (const name of names) {
      // Once the stuck cell says it waits, interrupt from the toolbar.
      await nb.runCell(name, name !== "stuck" ? undefined : async () => {
        await nb.outputs("stuck").filter({ hasText: "waiting for the stuck PE" }).waitFor({ timeout: 120_000 });
        await nb.interrupt();
      });
      // The first cell's type check starts the language service; on a loaded machine that can
      // outlast the kernel's wait, which the cell then says. Run once more, with the checker warm.
      if (name === "typeError" && (await nb.text(name, "stderr")).includes("took over")) await nb.runCell(name);
    }
  });

  it("shows the type error under its cell, which ran anyway", async () => {
    expect(await nb().text("typeError", "stderr")).toMatch(/TypeScript \(the cell ran anyway\)[\s\S]*TS2322/);
    expect(await nb().text("typeError", "stdout")).toContain("ran anyway");
    const elsewhere = (await nb().everywhere("stderr")).filter(([, text]) => text.includes("TS2322"));
    expect(elsewhere.map(([id]) => id)).toEqual(["typeError"]);
  });

  it("shows remote errors under their cells with ANSI colours rendered, no escape codes, no runtime frames", async () => {
    for (const name of ["remoteError", "processError"] as const) {
      const error = await nb().text(name, "error");
      expect(error).toContain("boom on purpose");
      expect(error).toMatch(/Boom\[\d\]\.boom/);
      expect(error).not.toMatch(/\x1b|\[0;3\dm/);
      expect(error).not.toMatch(/dist\/chunk-|EntryRunner|node:internal/);
      // JupyterLab turns the colour codes into classed spans.
      expect(await nb().outputs(name).filter({ hasText: "boom on purpose" }).locator('span[class*="ansi-"]').count()).toBeGreaterThan(0);
    }
    const elsewhere = (await nb().everywhere("error")).filter(([, text]) => text.includes("boom on purpose"));
    expect(elsewhere.map(([id]) => id)).toEqual(["remoteError", "processError"]);
  });

  it("interrupt from the toolbar stops the stuck cell, names the lost chares there, and the next cells carry on", async () => {
    const stuck = `${await nb().text("stuck", "error")}\n${await nb().text("stuck", "stderr")}`;
    expect(stuck).toContain("Interrupted");
    expect(stuck).toContain("Spin[1]");
    expect(await nb().text("carriesOn", "result")).toBe("0");
    expect(await nb().text("processes", "result")).toBe("3");
    const counts = await nb().counts();
    expect(Object.values(counts).every((c) => /^\d+$/.test(c))).toBe(true);
  });
});

/** A widget's text whether or not it is scrolled into view (JupyterLab doesn't lay out what is far off screen, and innerText is then empty). */
async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? "").trim();
}

describeWith("jupyter_server", "chromium")("steering.ipynb in JupyterLab with its widget manager: steered while it runs", () => {
  /** The status line before and after the drag, the slider's readout after it, the progress bar mid-run. */
  const seen = { before: "", slider: "", after: "", progress: "", progressWidth: 0, viewsMidRun: 0, checkpoint: "", afterCheckpoint: 0 };
  const nb = useNotebook("steering.ipynb", sources["steering.ipynb"]!, async (nb) => {
    // The kernel picks its widget protocol by the manager's control comm: answered before any cell runs.
    await widgetManagerReady(nb);
    const status = views(nb, "controls").locator(".widget-html-content");
    const progress = views(nb, "run").locator(".jupyter-widgets.widget-label");
    await nb.runAll(async () => {
      await showing(status, /^step \d+: speed 0\.10 in every cell/, 90_000, "the status line to count steps");
      seen.before = await text(status);
      seen.slider = await dragSlider(nb, views(nb, "controls").locator(".widget-slider"), 0.8);
      const released = performance.now();
      const atRelease = await text(status);
      // Every cell has stepped with the slider's value: the max and min of what the cells used agree.
      await showing(status, new RegExp(`speed ${seen.slider.replace(".", "\\.")} in every cell`), 30_000, `every cell to step with speed ${seen.slider}`);
      seen.after = await text(status);
      const step = (line: string) => /^step (\d+)/.exec(line)?.[1];
      console.log(`JupyterLab steering: slider released at step ${step(atRelease)}, every cell at speed ${seen.slider} by step ${step(seen.after)}, seen ${Math.round(performance.now() - released)} ms after release`);
      await showing(progress, /^[1-9]\d*\/30 /, 10_000, "the progress bar to advance");
      seen.progress = await progress.innerText();
      seen.progressWidth = await views(nb, "run").locator(".progress-bar").evaluate((el: any) => parseFloat(el.style.width));
      seen.viewsMidRun = await views(nb, "run").count();
      // Marked, to find the same node after the run: updated in place, not shown again.
      await progress.evaluate((el: any) => { el.dataset.charm4tsMidRun = "yes"; });
      await nb.page.screenshot({ path: join(lab.shots, "steering-running.png") });
      // A checkpoint of the running simulation from its button: taken between two steps, then the run goes on.
      await views(nb, "controls").locator("button.widget-button", { hasText: "checkpoint" }).click();
      await showing(status, /· checkpoint at step \d+: 32 cells/, 30_000, "the status line to report the checkpoint");
      seen.checkpoint = await text(status);
      const savedAt = Number(/checkpoint at step (\d+)/.exec(seen.checkpoint)![1]);
      await nb.page.waitForFunction(({ el, past }) => Number(/^step (\d+)/.exec((el as any).textContent)?.[1]) > past, { el: await status.elementHandle(), past: savedAt + 5 }, { timeout: 30_000, polling: 50 })
        .catch((error: Error) => { throw new Error(`waited 30 s for the run to go on past step ${savedAt + 5} after the checkpoint: ${error.message.split("\n")[0]}`); });
      seen.afterCheckpoint = Number(step(await text(status)));
      await views(nb, "controls").locator("button.widget-button", { hasText: "stop" }).click();
    });
  });

  it("renders the controls as JupyterLab widgets, not as text", async () => {
    const controls = views(nb(), "controls");
    expect(await controls.count()).toBe(1);
    expect(await controls.locator(".jupyter-widgets.widget-slider.widget-hslider .noUi-handle").count()).toBe(1);
    expect((await controls.locator("button.jupyter-button.widget-button").allInnerTexts()).map((t) => t.trim())).toEqual(["stop", "checkpoint"]);
    expect(await controls.locator(".jupyter-widgets.widget-html").count()).toBe(1);
    expect(await nb().outputs("controls", '[data-mime-type="text/plain"]').count()).toBe(0);
    expect(await nb().page.locator(".jp-OutputArea-output").filter({ hasText: /Loading widget|Error displaying widget/ }).count()).toBe(0);
    expect(seen.before).toMatch(/max particles per cell \d+/);
  });

  it("a slider drag during the run reaches every cell on both PEs: the reduction of the speeds they used agrees with the slider", () => {
    expect(seen.slider).toMatch(/^0\.\d\d$/);
    expect(Number(seen.slider)).toBeGreaterThan(0.2);
    expect(seen.after).toContain(`speed ${seen.slider} in every cell`);
  });

  it("the checkpoint button saves the running simulation between two steps, the run goes on, and the checkpoint holds every particle", async () => {
    expect(seen.checkpoint).toMatch(/· checkpoint at step \d+: 32 cells, \d+\.\d MB in \d+ ms$/);
    expect(seen.afterCheckpoint).toBeGreaterThan(Number(/checkpoint at step (\d+)/.exec(seen.checkpoint)![1]) + 5);
    expect(await nb().text("after", "result")).toContain("its checkpoint restores all 30000");
  });

  it("advanced the progress bar in place while the run went on", async () => {
    expect(seen.progress).toMatch(/^[1-9]\d*\/30 \(\d+%\)$/);
    expect(seen.progressWidth).toBeGreaterThan(0);
    // The same node as mid-run, now further on; the run cell's views are the same ones (bar and two charts).
    const progress = views(nb(), "run").locator('.jupyter-widgets.widget-label[data-charm4ts-mid-run="yes"]');
    const [midRun, atEnd] = [seen.progress, await progress.innerText()].map((text) => Number(/^(\d+)\//.exec(text)?.[1]));
    expect(atEnd).toBeGreaterThanOrEqual(midRun!);
    expect(await views(nb(), "run").count()).toBe(seen.viewsMidRun);
    expect(await views(nb(), "run").locator(".widget-html-content svg").count()).toBe(2);
  });

  it("stop ends the run before its time, cleanly: no particle lost, no error anywhere", async () => {
    await ranCleanly(nb(), 1);
    const result = await nb().text("run", "result");
    expect(result).toMatch(/stopped by the button after \d+ steps \((\d+\.\d) s\)/);
    expect(Number(/\((\d+\.\d) s\)/.exec(result)![1])).toBeLessThan(30);
    expect(await text(views(nb(), "controls").locator(".widget-html-content"))).toMatch(/— stopped by the button$/);
    // The run disabled its buttons on the way out; the views follow the kernel's state.
    for (const name of ["stop", "checkpoint"]) expect(await views(nb(), "controls").locator("button.widget-button", { hasText: name }).isDisabled()).toBe(true);
    expect(await nb().text("after", "result")).toContain("30000 particles, as many as at the start");
    // A type check given up on a loaded machine says so on stderr: the kernel's notice, not the notebook's error.
    const stderr = (await nb().everywhere("stderr")).filter(([, text]) => !/^TypeScript: checking this cell took over \d+ s/.test(text));
    expect(stderr).toEqual([]);
  });

  it("a reconnecting page gets every live model's state back from the kernel, and its views stay", async () => {
    const page = nb().page;
    const answers: number = await page.evaluate(() => (globalThis as any).lab.widgets.answers);
    // JupyterLab's manager restores from the kernel whenever its connection comes back.
    await page.evaluate(() => (globalThis as any).lab.panel.sessionContext.session.kernel.reconnect());
    await page.waitForFunction((before) => (globalThis as any).lab.widgets.answers > before, answers, { timeout: 15_000, polling: 50 }).catch((error: Error) => {
      throw new Error(`waited 15 s for the kernel to answer the reconnected manager's control comm: ${error.message.split("\n")[0]}`);
    });
    const { listed, known } = await page.evaluate(() => {
      const { manager, statesListed } = (globalThis as any).lab.widgets;
      return { listed: statesListed as number, known: Object.keys(manager.get_state_sync().state).length };
    });
    // The controls, the progress bar with its label, the two charts and their boxes: every one the page knows.
    expect(listed).toBeGreaterThanOrEqual(10);
    expect(listed).toBe(known);
    expect(await text(views(nb(), "controls").locator(".widget-readout"))).toBe(seen.slider);
    expect(await text(views(nb(), "controls").locator(".widget-html-content"))).toMatch(/— stopped by the button$/);
    expect(lab.pageErrors).toEqual([]);
  });
});
