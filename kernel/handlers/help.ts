// IPython's help syntax: a cell that is only `name?` (or `name??` for more detail) shows the
// documentation of `name` in the pager instead of running. A trailing `?` is never valid
// TypeScript, so no real cell is taken for a help request.
import type { KernelState } from "./context.ts";

const HELP = /^\s*([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)\s*(\?\??)\s*$/;

/** The expression and detail level of a help cell, or undefined for ordinary code. */
export function parseHelp(code: string): { expression: string; detailLevel: 0 | 1 } | undefined {
  const m = HELP.exec(code);
  if (!m) return undefined;
  return { expression: m[1]!.replace(/\s+/g, ""), detailLevel: m[2] === "??" ? 1 : 0 };
}

/** A pager payload (spec: execute_reply "payloads", source "page"), or a not-found message. */
export async function helpPayload(
  state: KernelState,
  help: { expression: string; detailLevel: 0 | 1 },
): Promise<{ payload: Record<string, unknown>[]; notFound?: string }> {
  const r = await state.executor.inspect(help.expression, [...help.expression].length, help.detailLevel);
  if (!r.found) return { payload: [], notFound: `No documentation found for \`${help.expression}\`.\n` };
  return { payload: [{ source: "page", data: r.data, start: 0 }] };
}
