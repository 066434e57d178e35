// Driving the JupyterLab test frontend with playwright-core: a jupyter_server on loopback serving
// the bundle as a static page, Debian's Chromium, and one open notebook per page — its cells run
// through JupyterLab's own keys, toolbar and Run All, its outputs read from JupyterLab's DOM.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { jupyterEnv, ROOT, startJupyterServer, type JupyterEnv, type JupyterServer } from "../jupyter-env.ts";
import { LAB_PAGE, labBundle } from "./bundle.ts";
import { screenshotDir } from "../../temp-dir.ts";

const CHROMIUM = "/usr/bin/chromium";

/** The server, the browser and where screenshots go. */
export interface Lab {
  je: JupyterEnv;
  server: JupyterServer;
  browser: Browser;
  shots: string;
  /** Errors thrown in any page (a JupyterLab component failing on our messages shows up here). */
  pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Bundles the frontend (or reuses it), starts jupyter_server with the bundle as a static path and
 * `notebooks` (file name → JSON) written into its root, where charm4ts is installed as a user has it, and Chromium.
 */
export async function startLab(notebooks: Record<string, string>, env: NodeJS.ProcessEnv): Promise<Lab> {
  const bundle = await labBundle();
  const je = jupyterEnv();
  Object.assign(je.env, env);
  const work = join(je.dir, "work");
  // As after `npm install charm4ts`: the package, and its commands in .bin (remote-pes.ipynb's attached PEs run `npx charm4ts-pe`).
  mkdirSync(join(work, "node_modules", ".bin"), { recursive: true });
  symlinkSync(ROOT, join(work, "node_modules", "charm4ts"), "dir");
  const bins = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string> }).bin;
  for (const [name, file] of Object.entries(bins)) symlinkSync(join("..", "charm4ts", file), join(work, "node_modules", ".bin", name));
  for (const [name, json] of Object.entries(notebooks)) writeFileSync(join(work, name), json);
  const server = await startJupyterServer(je, [`--ServerApp.extra_static_paths=${bundle}`]);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  // Kept (and printed) only when a test of the file failed, or in CHARM4TS_SCREENSHOT_DIR.
  const shots = screenshotDir("lab-screenshots");
  return {
    je, server, browser, shots, pageErrors: [],
    async close() {
      await browser.close();
      await server.stop();
      je.cleanup();
    },
  };
}

/** The ids of a notebook's cells, in order (JupyterLab shows every cell in that order). */
export function cellIds(json: string): string[] {
  return (JSON.parse(json) as { cells: Array<{ id: string }> }).cells.map((c) => c.id);
}

/**
 * Kinds of output, as the notebook format has them. JupyterLab renders an error with the stderr
 * renderer, so the DOM can't tell them apart: the kind is read from the cell's output model.
 */
export type OutputKind = "stdout" | "stderr" | "error" | "result" | "display";

/** One notebook open in JupyterLab's notebook panel. */
export class LabNotebook {
  private constructor(readonly page: Page, private readonly ids: string[]) {}

  /** Opens `name` (a file in the server's root) and waits until its kernel is idle. */
  static async open(lab: Lab, name: string, ids: string[]): Promise<LabNotebook> {
    const page = await lab.browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (e) => lab.pageErrors.push(`${name}: ${e.message}`));
    const { baseUrl, token } = lab.server;
    await page.goto(`${baseUrl}static/${LAB_PAGE}/index.html?path=${encodeURIComponent(name)}&token=${token}`);
    await page.waitForFunction(() => {
      const { lab, labError } = globalThis as any;
      if (labError) throw new Error(labError);
      return lab?.panel.sessionContext.session?.kernel?.status === "idle";
    }, undefined, { timeout: 60_000 });
    return new LabNotebook(page, ids);
  }

  /** A cell's whole node. */
  cell(id: string): Locator {
    const index = this.ids.indexOf(id);
    if (index < 0) throw new Error(`no cell ${id} in this notebook (${this.ids.join(", ")})`);
    // By its index in the notebook: JupyterLab adds cells to the DOM lazily (a cell far down may be
    // missing, or come after later ones), and marks each with its index.
    return this.page.locator(`.jp-Notebook .jp-Cell[data-windowed-list-index="${index}"]`);
  }

  /** The rendered outputs of a cell, all or those matching a CSS selector (`[data-mime-type="text/html"]`). */
  outputs(id: string, selector = ""): Locator {
    return this.cell(id).locator(`.jp-OutputArea-output${selector}`);
  }

  /** The HTML outputs of a cell. */
  html(id: string): Locator {
    return this.outputs(id, '[data-mime-type="text/html"]');
  }

  /** The text of each of a cell's outputs with its kind (textContent: cells out of view aren't laid out, and have no innerText). */
  async kinds(id: string): Promise<Array<[OutputKind, string]>> {
    return this.page.evaluate((index) => {
      const cell = (globalThis as any).lab.panel.content.widgets[index];
      const outputs = cell.model.outputs;
      if (!outputs) return [];
      return Array.from({ length: outputs.length as number }, (_, j) => {
        const json = outputs.get(j).toJSON();
        const kind = json.output_type === "stream" ? json.name : ({ execute_result: "result", display_data: "display" } as any)[json.output_type] ?? json.output_type;
        return [kind, cell.outputArea.widgets[j]?.node.querySelector(".jp-OutputArea-output")?.textContent ?? ""];
      });
    }, this.ids.indexOf(id));
  }

  /** The text of a cell's outputs of one kind, joined. */
  async text(id: string, kind: OutputKind): Promise<string> {
    return (await this.kinds(id)).filter(([k]) => k === kind).map(([, text]) => text).join("\n");
  }

  /** Every output of one kind in the notebook: [cell id, text] pairs. */
  async everywhere(kind: OutputKind): Promise<Array<[string, string]>> {
    const found: Array<[string, string]> = [];
    for (const id of this.ids) for (const [k, text] of await this.kinds(id)) if (k === kind) found.push([id, text]);
    return found;
  }

  /**
   * Waits until every code cell in `ran` has a new execution count (other than in `before`), none
   * is running or queued, the kernel is idle (outputs come before idle), and every cell is in the DOM.
   */
  async settle(what: string, ran: string[], before: Record<string, string>, timeout = 180_000): Promise<void> {
    const indexes = ran.filter((id) => id in before).map((id) => [this.ids.indexOf(id), before[id]] as const);
    await this.page.waitForFunction((cells) => {
      const { content, sessionContext } = (globalThis as any).lab.panel;
      const model = (i: number) => content.model.cells.get(i);
      const counted = cells.every(([i, old]) => typeof model(i).executionCount === "number" && String(model(i).executionCount) !== old);
      const busy = content.widgets.some((w: any) => w.model.type === "code" && w.model.executionState === "running");
      const shown = content.widgets.every((w: any) => !w.isPlaceholder());
      return counted && !busy && shown && sessionContext.session?.kernel?.status === "idle";
    }, indexes, { timeout, polling: 100 }).catch((error: Error) => {
      throw new Error(`waited ${timeout} ms for ${what}: ${error.message}`);
    });
  }

  /** Runs one cell as a user does (select it by its prompt, press Shift+Enter), and `then` (before it ends) if given. */
  async runCell(id: string, then?: () => Promise<void>): Promise<void> {
    const before = await this.counts();
    await this.cell(id).locator(".jp-InputPrompt").first().click();
    await this.page.keyboard.press("Shift+Enter");
    await then?.();
    await this.settle(`cell ${id} to finish`, [id], before);
  }

  /** Runs every cell in order, each after the previous has finished. */
  async runCellByCell(): Promise<void> {
    for (const id of this.ids) await this.runCell(id);
  }

  /** Run All, as JupyterLab's Run menu does it, and `then` (while the cells run) if given, then waits for the last cell. */
  async runAll(then?: () => Promise<void>): Promise<void> {
    const before = await this.counts();
    // Not awaited in the page: its promise settles only when the last cell has, which settle() bounds.
    await this.page.evaluate(() => { void (globalThis as any).lab.runAll(); });
    await then?.();
    await this.settle("Run All to finish", this.ids, before);
  }

  /** The execution count of each code cell of the notebook, as its prompt shows it ("" for a cell never run). */
  async counts(): Promise<Record<string, string>> {
    const prompts: Array<string | null> = await this.page.evaluate(() => (globalThis as any).lab.panel.content.widgets
      .map((w: any) => (w.model.type === "code" ? String(w.model.executionCount ?? "") : null)));
    // Shift+Enter on the last cell adds an empty one below, as in JupyterLab: only the notebook's own cells count.
    return Object.fromEntries(this.ids.flatMap((id, i) => (prompts[i] === null ? [] : [[id, prompts[i]!]])));
  }

  /** Clicks the toolbar's interrupt button. */
  async interrupt(): Promise<void> {
    await this.page.locator('[data-jp-item-name="interrupt"] button, [data-jp-item-name="interrupt"]').first().click();
  }

  /** A screenshot of the whole notebook at `file` in the lab's screenshot directory. */
  async screenshot(lab: Lab, file: string): Promise<string> {
    const path = join(lab.shots, file);
    // The notebook scrolls inside its panel, not the page: grow the window to show every cell.
    const height = await this.page.evaluate(() => {
      const { document } = globalThis as any;
      document.querySelector(".jp-WindowedPanel-outer")?.scrollTo(0, 0);
      return (document.querySelector(".jp-WindowedPanel-inner")?.scrollHeight ?? 900) + 60;
    });
    const size = this.page.viewportSize();
    await this.page.setViewportSize({ width: 1280, height: Math.min(Math.max(height, 900), 8000) });
    await this.page.screenshot({ path });
    if (size) await this.page.setViewportSize(size);
    return path;
  }

  /** Shuts the notebook's kernel down and closes the page. */
  async close(): Promise<void> {
    await this.page.evaluate(() => (globalThis as any).lab.panel.sessionContext.shutdown()).catch(() => {});
    await this.page.close();
  }
}
