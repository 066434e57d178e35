import { describe, expect, it } from "vitest";
import { DriverOnlyNames } from "../../kernel/interactive/driver-only.ts";
import { RemoteError } from "../../runtime/index.ts";

const onPe = (name: string, message: string, pe = 0) => new RemoteError({ name, message, stack: "", pe, chare: "C[0]", method: "f" });

describe("names only the driver has", () => {
  it("explains a PE's ReferenceError for one, naming the cell that declared it", () => {
    const names = new DriverOnlyNames();
    names.declared("cell-3.ts", { shipped: ["K"], driverOnly: ["data"] });
    expect(names.explain(onPe("ReferenceError", "data is not defined"))).toMatch(/^`data`, declared in cell-3\.ts, exists only on the driver — .* Pass it to the chare as an argument/);
    // A constructor's failure, quoted by the call that found its chares missing.
    expect(names.explain(onPe("CharmError", "a broadcast to C.f can't reach its elements on PE 0: creating them failed (ReferenceError: data is not defined)"))).toContain("`data`");
  });

  it("says nothing for other names, other errors, or the driver's own", () => {
    const names = new DriverOnlyNames();
    names.declared("cell-1.ts", { shipped: [], driverOnly: ["data"] });
    expect(names.explain(onPe("ReferenceError", "dtaa is not defined"))).toBeUndefined();
    expect(names.explain(onPe("TypeError", "data is not defined"))).toBeUndefined();
    expect(names.explain(onPe("ReferenceError", "metadata is not defined"))).toBeUndefined();
    expect(names.explain(onPe("ReferenceError", "data is not defined", -1))).toBeUndefined();
    expect(names.explain(new ReferenceError("data is not defined"))).toBeUndefined();
  });

  it("forgets a name a later cell ships, and remembers the last cell that declared it", () => {
    const names = new DriverOnlyNames();
    names.declared("cell-1.ts", { shipped: [], driverOnly: ["a", "b"] });
    names.declared("cell-2.ts", { shipped: ["a"], driverOnly: ["b"] });
    expect(names.explain(onPe("ReferenceError", "a is not defined"))).toBeUndefined();
    expect(names.explain(onPe("ReferenceError", "b is not defined"))).toContain("cell-2.ts");
    // A shipment the PEs refused leaves its names on the driver alone.
    names.notShipped("cell-3.ts", ["a"]);
    expect(names.explain(onPe("ReferenceError", "a is not defined"))).toContain("cell-3.ts");
  });
});
