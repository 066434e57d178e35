// complete, inspect and is_complete: thin adapters over the executor, which understands
// TypeScript and counts cursor positions in Unicode code points as the protocol does (JS strings count UTF-16 units).
import type { IncomingOf, ReplyContent } from "../protocol/messages.ts";
import { integerField, stringField } from "./content.ts";
import type { KernelState } from "./context.ts";

/** The code and cursor of a complete or inspect request; a missing cursor_pos means the end. */
function codeAndCursor(content: Readonly<Record<string, unknown>>): { code: string; cursor: number } {
  const code = stringField(content, "code", "");
  const length = [...code].length;
  return { code, cursor: integerField(content, "cursor_pos", 0, length) ?? length };
}

/** complete_reply content. */
export async function handleComplete(
  state: KernelState,
  request: IncomingOf<"complete_request">,
): Promise<ReplyContent["complete_request"]> {
  const { code, cursor } = codeAndCursor(request.content);
  const r = await state.executor.complete(code, cursor);
  return { status: "ok", matches: r.matches, cursor_start: r.cursor_start, cursor_end: r.cursor_end, metadata: r.metadata };
}

/** inspect_reply content. */
export async function handleInspect(
  state: KernelState,
  request: IncomingOf<"inspect_request">,
): Promise<ReplyContent["inspect_request"]> {
  const { code, cursor } = codeAndCursor(request.content);
  const level = request.content.detail_level === 1 ? 1 : 0;
  const r = await state.executor.inspect(code, cursor, level);
  return { status: "ok", found: r.found, data: r.found ? r.data : {}, metadata: {} };
}

/** is_complete_reply content; `indent` only accompanies `incomplete`. */
export async function handleIsComplete(
  state: KernelState,
  request: IncomingOf<"is_complete_request">,
): Promise<ReplyContent["is_complete_request"]> {
  const r = await state.executor.isComplete(stringField(request.content, "code", ""));
  return r.status === "incomplete" ? { status: "incomplete", indent: r.indent ?? "" } : { status: r.status };
}
