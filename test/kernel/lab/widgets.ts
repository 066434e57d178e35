// Widgets as a JupyterLab user meets them in the test page: the page's widget manager ready for
// the kernel (./frontend/widgets.ts), views found in a cell's outputs, a slider dragged with the
// mouse, and bounded waits for what a view shows.
import type { Locator } from "playwright-core";
import type { LabNotebook } from "./page.ts";

/**
 * Waits until the page's widget manager has opened the `jupyter.widget.control` comm and the
 * kernel has answered it with `update_states`: from then on the kernel speaks widget protocol 2.
 */
export async function widgetManagerReady(nb: LabNotebook, timeout = 30_000): Promise<void> {
  await nb.page.waitForFunction(() => {
    const { control, manager } = (globalThis as any).lab.widgets;
    return control === "answered" && manager.restoredStatus;
  }, undefined, { timeout, polling: 50 }).catch(async (error: Error) => {
    const state = await nb.page.evaluate(() => {
      const { control, manager } = (globalThis as any).lab.widgets;
      return `control comm ${control}, restored ${manager.restoredStatus}`;
    });
    throw new Error(`waited ${timeout / 1000} s for the kernel to answer the widget manager's control comm (${state}): ${error.message.split("\n")[0]}`);
  });
}

/** A cell's outputs that show a widget view (JupyterLab's widget renderer marks no mime type: the view inside tells). */
export function views(nb: LabNotebook, id: string): Locator {
  return nb.outputs(id, ":has(> .jupyter-widgets)");
}

/** Waits until `locator` shows text matching `re`, failing after `ms` with what it waited for. */
export async function showing(locator: Locator, re: RegExp, ms: number, what: string): Promise<void> {
  await locator.filter({ hasText: re }).first().waitFor({ timeout: ms }).catch((error: Error) => {
    throw new Error(`waited ${ms / 1000} s for ${what}: ${error.message.split("\n")[0]}`);
  });
}

/** Drags a slider view's handle with the mouse to `fraction` of its track, as a user does; returns its readout after. */
export async function dragSlider(nb: LabNotebook, slider: Locator, fraction: number): Promise<string> {
  await slider.scrollIntoViewIfNeeded();
  const track = await slider.locator(".slider-container .noUi-target").boundingBox();
  const handle = await slider.locator(".noUi-handle").boundingBox();
  if (!track || !handle) throw new Error("the slider's track or handle is not rendered");
  const { mouse } = nb.page;
  const y = track.y + track.height / 2;
  await mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
  await mouse.down();
  // In steps, as a hand moves: the view sends values during the drag (continuous updates).
  await mouse.move(track.x + track.width * (fraction - 0.2), y, { steps: 5 });
  await mouse.move(track.x + track.width * fraction, y, { steps: 5 });
  await mouse.up();
  return (await slider.locator(".widget-readout").innerText()).trim();
}
