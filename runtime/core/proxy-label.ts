/** How a proxy names what it points at, in errors and displays: "Cell[2,3]", "Hello(array 8)". */
import type { ProxyRef } from "../protocol/messages.ts";

/** Describes a proxy for people: "Hello[3]", "Hello(array 8)". */
export function proxyLabel(ref: ProxyRef): string {
  if (ref.idx) return `${ref.cls}[${ref.idx.join(",")}]`;
  if (ref.kind === "single") return `${ref.cls}(singleton on PE ${ref.pe})`;
  if (ref.kind === "array") return `${ref.cls}(array ${ref.dims!.join("×")})`;
  return `${ref.cls}(${ref.kind})`;
}
