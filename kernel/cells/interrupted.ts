/** The result of a cell that an interrupt (the stop button, or its time limit) ended. */
import { ANSI } from "../../runtime/embedding.ts";
import type { CellResult } from "./protocol.ts";

/** The Interrupted error, saying what was stopped; `detail` is the worker's (calls left running on PEs). */
export function interrupted(stopped: "await" | "running" | undefined, detail = ""): CellResult {
  const base =
    stopped === "running"
      ? "stopped the cell's running JavaScript (a long or endless computation); all state is kept"
      : "stopped waiting: the cell was awaiting something that had not settled (a loop in it stops where it next resumes); all state is kept";
  const evalue = detail ? `${base}. ${detail}` : base;
  return { status: "error", ename: "Interrupted", evalue, traceback: [`${ANSI.name("Interrupted")}: ${evalue}`] };
}
