/** Messages between the main thread and the language process (completion and inspection). */

/** Main thread → language process. Offsets are UTF-16, into `history` joined plus `code`. */
export type ToLanguage =
  | { type: "complete"; id: number; history: string[]; code: string; cursor: number }
  | { type: "inspect"; id: number; history: string[]; code: string; cursor: number; detailLevel: number }
  | { type: "check"; id: number; history: string[]; code: string; cellName: string };

/** Language worker → main thread. */
export type FromLanguage =
  | { type: "completions"; id: number; names: string[]; kinds: string[]; start: number; end: number }
  | { type: "info"; id: number; text: string | null }
  | { type: "diagnostics"; id: number; lines: string[] };
