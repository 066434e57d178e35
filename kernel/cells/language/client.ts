/** Completion and inspection for the kernel's main thread (placeholder: live names only). */
import type { CompleteResult, InspectResult } from "../protocol.ts";
import { codePointsToUtf16, utf16ToCodePoints } from "./positions.ts";

/** Asks the executor for live property names of `expression` (empty: top-level names). */
export type PropertyNames = (expression: string) => Promise<string[]>;

/** TypeScript-aware completion over the history of successful cells, with live names as fallback. */
export class LanguageService {
  constructor(
    private readonly cwd: string,
    private readonly propertyNames: PropertyNames,
  ) {}

  /** Completes at `cursorPos` (code points). */
  async complete(history: readonly string[], code: string, cursorPos: number): Promise<CompleteResult> {
    const cursor = codePointsToUtf16(code, cursorPos);
    const before = code.slice(0, cursor);
    const match = /((?:[\p{L}_$][\p{L}\p{N}_$]*\.)*)([\p{L}_$][\p{L}\p{N}_$]*)?$/u.exec(before);
    const path = (match?.[1] ?? "").replace(/\.$/, "");
    const prefix = match?.[2] ?? "";
    const names = (await this.propertyNames(path)).filter((name) => name.startsWith(prefix));
    const start = cursor - prefix.length;
    return {
      matches: names,
      cursor_start: utf16ToCodePoints(code, start),
      cursor_end: utf16ToCodePoints(code, cursor),
      metadata: {},
    };
  }

  /** Inspects the name at `cursorPos` (code points). */
  async inspect(_history: readonly string[], _code: string, _cursorPos: number, _detailLevel: number): Promise<InspectResult> {
    return { found: false, data: {} };
  }

  /** Stops the language worker. */
  async close(): Promise<void> {}
}
