/**
 * Section proxies at run time: small values like collection proxies (interned per thread, so
 * `===` and Map keys work; they travel as a SectionRef). Property access yields multicast
 * callers; a caller is also a reduction or callback target, and the result goes to every member.
 */
import { inspect } from "node:util";
import { CharmError } from "../protocol/errors.ts";
import type { SectionRef, TargetRef } from "../protocol/messages.ts";
import { registerReviver, toWire } from "../protocol/codec.ts";
import { maybeRt, runtimeGeneration } from "../core/current.ts";
import { TARGET } from "../core/proxy.ts";
import { WeakInterner } from "../core/weak-intern.ts";
import { MIME_BUNDLE, htmlTable } from "../presentation/display.ts";
import { multicast, sectionLabel } from "./multicast.ts";

const REF = Symbol("charm4ts.sectionRef");

const interned = new WeakInterner();

/** The proxy for a section (interned per thread, per runtime). */
export function makeSectionProxy(ref: SectionRef): any {
  return interned.get(runtimeGeneration(), ref.sid, () => {
    const own: SectionRef = { sid: ref.sid, cls: ref.cls, n: ref.n };
    // console.log inspects a Proxy's target without its traps: the target names the section.
    const target = Object.freeze({ [inspect.custom]: () => `SectionProxy<${sectionLabel(own)}>` });
    return new Proxy(target, new SectionTraps(own));
  });
}

/** The SectionRef behind a section proxy, or undefined for anything else. */
export function sectionRef(value: unknown): SectionRef | undefined {
  return value !== null && typeof value === "object" ? (value as any)[REF] : undefined;
}

class SectionTraps implements ProxyHandler<object> {
  private readonly callers = new Map<string, Function>();
  constructor(private readonly ref: SectionRef) {}

  get(_target: object, prop: string | symbol): unknown {
    const ref = this.ref;
    if (typeof prop === "symbol") {
      if (prop === REF) return ref;
      if (prop === toWire) return () => ({ $charm: "section", ...ref });
      if (prop === Symbol.toPrimitive) return () => sectionLabel(ref);
      if (prop === inspect.custom) return () => `SectionProxy<${sectionLabel(ref)}>`;
      if (prop === MIME_BUNDLE) return () => sectionBundle(ref);
      return undefined;
    }
    if (prop === "then") return undefined; // not a promise: `await section` gives the section
    if (prop === "toString") return () => sectionLabel(ref);
    if (prop === "toJSON") return () => ({ section: sectionLabel(ref) });
    if (prop === "at") return () => { throw new CharmError(`${sectionLabel(ref)}: sections have no .at(); call the element through its collection's proxy`); };
    let caller = this.callers.get(prop);
    if (!caller) this.callers.set(prop, (caller = makeCaller(ref, prop)));
    return caller;
  }

  set(): boolean {
    throw new CharmError(`section proxies are read-only (${sectionLabel(this.ref)})`);
  }
}

function makeCaller(ref: SectionRef, method: string): Function {
  const send: any = (...args: unknown[]) => { multicast(ref, method, args, undefined); };
  send.ret = (...args: unknown[]) => multicast(ref, method, args, "value");
  send.awaitable = (...args: unknown[]) => multicast(ref, method, args, "done");
  send[TARGET] = { k: "section", sec: ref, m: method } satisfies TargetRef;
  send[toWire] = () => ({ $charm: "sectionMethod", sec: ref, m: method });
  return send;
}

/** How a notebook shows a section: its size and how many members each PE holds. */
function sectionBundle(ref: SectionRef): Record<string, string> {
  const runtime = maybeRt();
  const section = runtime?.sections.get(ref.sid);
  const counts = new Map<number, number>();
  if (runtime && section) {
    section.refs.forEach((coll, k) => {
      for (const idx of section.members[k]!) {
        const pe = runtime.locate(coll, idx);
        counts.set(pe, (counts.get(pe) ?? 0) + 1);
      }
    });
  }
  const perPe = [...counts].sort((a, b) => a[0] - b[0]);
  const label = sectionLabel(ref);
  const text = `SectionProxy<${label}>` + perPe.map(([pe, n]) => `\n  PE ${pe}: ${n} member${n === 1 ? "" : "s"}`).join("");
  return { "text/plain": text, "text/html": htmlTable(label, ["PE", "members"], perPe.map(([pe, n]) => [String(pe), String(n)])) };
}

registerReviver("section", (d: SectionRef) => makeSectionProxy(d));
// A bound section method arrives as the same method of this thread's interned section proxy.
registerReviver("sectionMethod", (d: { sec: SectionRef; m: string }) => makeSectionProxy(d.sec)[d.m]);
