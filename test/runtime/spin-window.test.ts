// The spin window's decisions (runtime/transport/spin.ts), with inlets that count their looks: it
// spins after a turn, not after a turn that posted to the driver (which needs the core it was
// just woken for), and the port transport says which turns did.
import { MessageChannel } from "node:worker_threads";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SpinWindow, type Inlets } from "../../runtime/transport/spin.ts";
import { PortTransport } from "../../runtime/transport/port-transport.ts";
import { DRIVER } from "../../runtime/protocol/ids.ts";

/** Inlets that never hold anything, counting how often the window looks at them. */
function countingInlets(): Inlets & { pumps: number; asleep: boolean } {
  const inlets = {
    pumps: 0,
    asleep: false,
    pump: () => { inlets.pumps++; return false; },
    poll: () => false,
    sleep: (asleep: boolean) => { inlets.asleep = asleep; },
  };
  return inlets;
}

/** Resolves once the window's end-of-turn look (an immediate, or a microtask) has run. */
const turnEnded = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

describe("the spin window", () => {
  it("keeps looking after a turn, then sleeps", async () => {
    const inlets = countingInlets();
    const window = new SpinWindow(200, () => {}, inlets);
    window.woke();
    expect(inlets.asleep).toBe(false);
    await turnEnded();
    // One look before the window, at least one in it, one after the sleep mark.
    expect(inlets.pumps).toBeGreaterThan(2);
    expect(inlets.asleep).toBe(true);
  });

  it("doesn't spin after a turn that posted to the driver, and spins again after the next turn", async () => {
    const inlets = countingInlets();
    let toDriver = true;
    const window: SpinWindow = new SpinWindow(200, () => { if (toDriver) window.yieldCore(); }, inlets);
    window.woke();
    await turnEnded();
    expect(inlets.pumps).toBe(2); // the look before, and the last look after the sleep mark: no window
    expect(inlets.asleep).toBe(true);
    toDriver = false;
    inlets.pumps = 0;
    window.woke();
    await turnEnded();
    expect(inlets.pumps).toBeGreaterThan(2);
  });

  it("with spinUs 0 never spins", async () => {
    const inlets = countingInlets();
    const window = new SpinWindow(0, () => {}, inlets);
    window.woke();
    await turnEnded();
    expect(inlets.pumps).toBe(2);
    expect(inlets.asleep).toBe(true);
  });
});

describe("the port transport", () => {
  const opened: PortTransport[] = [];
  afterEach(() => { for (const t of opened.splice(0)) t.close(); vi.restoreAllMocks(); });

  it("tells its window when a turn posts to the driver, and only then", () => {
    const yielded = vi.spyOn(SpinWindow.prototype, "yieldCore");
    const toDriver = new MessageChannel(), toPe = new MessageChannel();
    const pe = new PortTransport(0, new Map([[DRIVER, toDriver.port1], [1, toPe.port1]]), 50);
    opened.push(pe);
    pe.send(1, { t: "resolve", fid: 1 as never, v: 1 });
    pe.flush();
    expect(yielded).not.toHaveBeenCalled();
    pe.send(DRIVER, { t: "resolve", fid: 2 as never, v: 2 });
    pe.flush();
    expect(yielded).toHaveBeenCalledTimes(1);
    toDriver.port2.close();
    toPe.port2.close();
  });
});
