/** Resolves as `work` does, or rejects after `ms` saying what the test waited for (test/bounded.ts). */
export { bounded as within } from "../bounded.ts";
