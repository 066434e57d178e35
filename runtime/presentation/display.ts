/**
 * How runtime values show themselves in a notebook: `[MIME_BUNDLE]()` returns text/plain and
 * text/html. Readable as text in a terminal runner, as a small table in JupyterLab/Notebook.
 */
import type { ProxyRef } from "../protocol/messages.ts";
import { forEachIndex, homePe, sizeOf } from "../core/placement.ts";
import { maybeRt } from "../core/current.ts";
import { counterOf, homeOf } from "../protocol/ids.ts";
import { MIME_BUNDLE, registerViews } from "../core/bundles.ts";

export { MIME_BUNDLE };

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small HTML table with a caption; rows are already strings. */
export function htmlTable(caption: string, header: string[], rows: string[][]): string {
  const cells = (tag: string, r: string[]) => r.map((c) => `<${tag} style="text-align:left;padding:2px 8px">${escapeHtml(c)}</${tag}>`).join("");
  return `<table><caption style="text-align:left"><b>${escapeHtml(caption)}</b></caption><tr>${cells("th", header)}</tr>${rows.map((r) => `<tr>${cells("td", r)}</tr>`).join("")}</table>`;
}

/** Elements per PE of a collection, where the driver can tell without asking the PEs. */
function placement(ref: ProxyRef): Map<number, number> | undefined {
  const runtime = maybeRt();
  if (!runtime) return undefined;
  const counts = new Map<number, number>();
  if (ref.kind === "single") counts.set(ref.pe!, 1);
  else if (ref.kind === "group") for (let pe = 0; pe < runtime.numPes; pe++) counts.set(pe, 1);
  else if (ref.kind === "array" && sizeOf(ref.dims!) <= 1_000_000) {
    forEachIndex(ref.dims!, (idx) => {
      const pe = homePe(ref, idx, runtime.numPes, runtime.self);
      counts.set(pe, (counts.get(pe) ?? 0) + 1);
    });
  } else return undefined;
  return counts;
}

/** The bundle for a proxy: its class, shape and placement per PE. */
function proxyBundle(ref: ProxyRef, label: string): Record<string, string> {
  const runtime = maybeRt();
  if (ref.idx) {
    const pe = runtime ? runtime.locate(ref, ref.idx) : undefined;
    const where = pe === undefined ? "" : ` on PE ${pe}`;
    return { "text/plain": `Proxy<${label}>${where}`, "text/html": `<code>${escapeHtml(label)}</code>${escapeHtml(where)}` };
  }
  const counts = placement(ref);
  const shape = ref.kind === "array" ? `${ref.kind} ${ref.dims!.join("×")}` : ref.kind;
  const perPe = counts ? [...counts].sort((a, b) => a[0] - b[0]) : [];
  const text = `Proxy<${ref.cls}> (${shape})` + (perPe.length ? `\n${perPe.map(([pe, n]) => `  PE ${pe}: ${n} element${n === 1 ? "" : "s"}`).join("\n")}` : "");
  const html = htmlTable(`${ref.cls} — ${shape}`, ["PE", "elements"], perPe.map(([pe, n]) => [String(pe), String(n)]));
  return { "text/plain": text, "text/html": html };
}

/** The bundle for a future: pending, its value, or its error. */
function futureBundle(id: number, status: string, value: unknown, error: Error | undefined): Record<string, string> {
  const detail = status === "resolved" ? ` = ${safeString(value)}` : status === "rejected" ? `: ${error?.message}` : "";
  const text = `Future ${shortId(id)} (${status})${detail}`;
  const color = status === "rejected" ? "#b00" : status === "resolved" ? "#060" : "#666";
  return { "text/plain": text, "text/html": `<span style="color:${color}">Future ${shortId(id)} <b>${escapeHtml(status)}</b>${escapeHtml(detail)}</span>` };
}

/** "#11@driver", "#4@PE1": the per-endpoint counter and home, not the packed number. */
function shortId(id: number): string {
  const home = homeOf(id);
  return `#${counterOf(id)}@${home < 0 ? "driver" : `PE${home}`}`;
}

function safeString(value: unknown): string {
  try {
    const s = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
    return s.length > 200 ? `${s.slice(0, 200)}…` : s;
  } catch {
    return String(value);
  }
}

// The core's proxies and futures show themselves with these views wherever this module is loaded.
registerViews({ proxy: proxyBundle, future: futureBundle });
