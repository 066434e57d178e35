// complete, inspect and is_complete: thin adapters over the executor, which understands
// TypeScript and counts cursor positions in Unicode code points as the protocol does (PITFALLS 9).
import type { IncomingOf, ReplyContent } from "../protocol/messages.ts";
import type { KernelState } from "./context.ts";

/** A missing cursor_pos means the end of the code, counted in code points. */
function cursorOf(code: string, pos: number | undefined): number {
  return typeof pos === "number" && Number.isFinite(pos) ? pos : [...code].length;
}

/** complete_reply content. */
export async function handleComplete(
  state: KernelState,
  request: IncomingOf<"complete_request">,
): Promise<ReplyContent["complete_request"]> {
  const code = String(request.content.code ?? "");
  const r = await state.executor.complete(code, cursorOf(code, request.content.cursor_pos));
  return { status: "ok", matches: r.matches, cursor_start: r.cursor_start, cursor_end: r.cursor_end, metadata: r.metadata };
}

/** inspect_reply content. */
export async function handleInspect(
  state: KernelState,
  request: IncomingOf<"inspect_request">,
): Promise<ReplyContent["inspect_request"]> {
  const code = String(request.content.code ?? "");
  const level = request.content.detail_level === 1 ? 1 : 0;
  const r = await state.executor.inspect(code, cursorOf(code, request.content.cursor_pos), level);
  return { status: "ok", found: r.found, data: r.found ? r.data : {}, metadata: {} };
}

/** is_complete_reply content; `indent` only accompanies `incomplete` (PITFALLS 13). */
export function handleIsComplete(
  state: KernelState,
  request: IncomingOf<"is_complete_request">,
): ReplyContent["is_complete_request"] {
  const r = state.executor.isComplete(String(request.content.code ?? ""));
  return r.status === "incomplete" ? { status: "incomplete", indent: r.indent ?? "" } : { status: r.status };
}
