/** Starting the kernel's cell executor, kept light: the kernel's entry loads it before the rest. */
import { totalmem } from "node:os";
import { CellExecutor } from "../cells/executor.ts";
import type { Prestart } from "../../runtime/embedding.ts";

/** Starts the cell executor for notebooks in `cwd`, with the kernel's heap limit (and PE threads already starting for it). */
export function startCellExecutor(cwd: string, pes?: Prestart): Promise<CellExecutor> {
  return CellExecutor.start({ cwd, maxHeapMb: executorHeapMb(), pes });
}

/** The executor's heap limit: CHARM4TS_MAX_HEAP_MB, else half the machine's memory up to 4 GiB. */
function executorHeapMb(): number {
  const configured = Number(process.env.CHARM4TS_MAX_HEAP_MB);
  if (Number.isFinite(configured) && configured > 0) return configured;
  return Math.min(4096, Math.max(256, Math.floor(totalmem() / 2 ** 21)));
}
