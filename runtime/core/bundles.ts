/**
 * How core values (proxies, futures) show themselves in a notebook, without the core knowing
 * how: presentation/display.ts registers the views when it loads, as revivers register with the
 * codec. Before that (or in a program that never loads it) a value shows a line of text.
 */
import type { ProxyRef } from "../protocol/messages.ts";

/** The symbol a notebook looks for on values it displays (kernel/cells/worker/format.ts). */
export const MIME_BUNDLE: unique symbol = Symbol.for("charm4ts.mimeBundle") as any;

/** A value's forms by MIME type: text/plain always, text/html where there is one. */
export type Bundle = Record<string, string>;

/** The views presentation code provides. */
export interface Views {
  /** A proxy: its class, shape and placement. */
  proxy(ref: ProxyRef, label: string): Bundle;
  /** A future: pending, its value, or its error. */
  future(id: number, status: string, value: unknown, error: Error | undefined): Bundle;
}

const views: Partial<Views> = {};

/** Installs views (presentation/display.ts does, once). */
export function registerViews(given: Partial<Views>): void {
  Object.assign(views, given);
}

/** The bundle for a proxy. */
export function proxyBundle(ref: ProxyRef, label: string): Bundle {
  return views.proxy?.(ref, label) ?? { "text/plain": `Proxy<${label}>` };
}

/** The bundle for a future. */
export function futureBundle(id: number, status: string, value: unknown, error: Error | undefined): Bundle {
  return views.future?.(id, status, value, error) ?? { "text/plain": `Future ${id} (${status})` };
}
