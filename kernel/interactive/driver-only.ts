/**
 * The notebook's top-level names that only the driver has: declared by a cell statement that
 * doesn't ship (`const data = load()`), so on a PE they are not defined. A chare that uses one
 * fails there with a bare "data is not defined"; the driver knows why, and says so.
 */
import { RemoteError } from "../../runtime/index.ts";
import type { CellDeclarations } from "./shippable.ts";

// "ReferenceError: data is not defined", alone or inside another error's message (a creation that
// failed: "creating them failed (ReferenceError: data is not defined)").
const NOT_DEFINED = /(?:^|\()ReferenceError: ([\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*) is not defined(?:$|\))/u;

/** Driver-only names, each with the cell that last declared it. */
export class DriverOnlyNames {
  private readonly cells = new Map<string, string>();

  /** A cell ran: its driver-only names are noted, and names it shipped are on the PEs again. */
  declared(cellName: string, names: Pick<CellDeclarations, "shipped" | "driverOnly">): void {
    for (const name of names.shipped) this.cells.delete(name);
    for (const name of names.driverOnly) this.cells.set(name, cellName);
  }

  /** A cell's shipment failed on the PEs: the names it meant to ship are the driver's alone. */
  notShipped(cellName: string, names: readonly string[]): void {
    for (const name of names) this.cells.set(name, cellName);
  }

  /**
   * For an error a PE raised because a driver-only name is not defined there: what that name is
   * and what to do, as a sentence to add to the error's message. Undefined for any other error
   * (a name no cell declared is a plain typo).
   */
  explain(error: unknown): string | undefined {
    if (!(error instanceof RemoteError) || error.pe < 0) return undefined;
    const name = NOT_DEFINED.exec(`${error.remoteName}: ${error.remoteMessage}`)?.[1];
    const cell = name === undefined ? undefined : this.cells.get(name);
    if (cell === undefined) return undefined;
    return `\`${name}\`, declared in ${cell || "a cell"}, exists only on the driver — values computed by calls, await or new aren't sent to the PEs. ` +
      "Pass it to the chare as an argument (or a constructor argument), or declare it as a constant of literals.";
  }
}
