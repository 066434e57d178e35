/**
 * A section's multicast. The sender sends one broadcast message, marked with the section's id,
 * to each PE that holds members of each of the section's collections; each PE runs it on the
 * members it holds (core/entry-runner.ts). Broadcast machinery does the rest: ids so an element that
 * moves runs it once, forwarding to elements that just left, replies counted at the section's
 * root PE and ordered by position in the section.
 */
import { CharmError } from "../protocol/errors.ts";
import { counterOf, homeOf } from "../protocol/ids.ts";
import type { Message, ReplyRef, SectionRef } from "../protocol/messages.ts";
import type { ElementRecord } from "../core/chare.ts";
import type { LocalCollection } from "../core/entry-runner.ts";
import { rt } from "../core/current.ts";
import type { Future } from "../core/future.ts";
import { encodeFor, replyTo } from "../core/invoke.ts";
import { ANY_PE } from "../core/failure.ts";
import { firstTime } from "../core/migration.ts";
import { findChareClass } from "../core/registry.ts";
import { entryMethodNames, isEntryMethod } from "../core/entry-methods.ts";
import type { EncodedArgs } from "../protocol/codec.ts";
import type { Section } from "./registry.ts";

/** "Worker section #3 (5 elements)": how a section names itself in labels and errors. */
export function sectionLabel(sec: SectionRef): string {
  const home = homeOf(sec.sid);
  return `${sec.cls} section #${counterOf(sec.sid)}${home >= 0 ? `@PE${home}` : ""} (${sec.n} element${sec.n === 1 ? "" : "s"})`;
}

/** Throws, at the call site, if a member class (known here) has no such entry method. */
export function checkSectionMethod(sec: SectionRef, method: string): void {
  for (const name of sec.cls.split("+")) {
    const cls = findChareClass(name);
    if (cls && !isEntryMethod(cls, method)) {
      throw new CharmError(`${name} has no entry method "${method}" (called on ${sectionLabel(sec)}); its entry methods are: ${entryMethodNames(cls).join(", ") || "(none)"}`);
    }
  }
}

/** Calls `method` on every member; with `mode`, a Future of the values (in member order) or of completion. */
export function multicast(sec: SectionRef, method: string, args: unknown[], mode: ReplyRef["mode"] | undefined): Future<any> | undefined {
  const runtime = rt();
  checkSectionMethod(sec, method);
  const enc = encodeFor({ cls: sec.cls }, method, args);
  // A member on a dead PE would never answer: refuse at once, as a call to its chare is.
  const known = runtime.failures.dead.size > 0 ? runtime.sections.get(sec.sid) : undefined;
  if (known) for (const pes of known.pesPerCollection(runtime)) for (const pe of pes) runtime.failures.check(pe, `the multicast ${sectionLabel(sec)}.${method}()`);
  // Like a broadcast's, its replies come from PEs anywhere (members move): a PE's death rejects it.
  const { future, reply } = replyTo(runtime, mode, `${sectionLabel(sec)}.${method}`, ANY_PE);
  // An empty section: nobody would ever answer, so answer here.
  if (sec.n === 0) { future?.send(mode === "value" ? [] : undefined); return future; }
  const b = runtime.newBroadcastId();
  // The proxy may have come here before the section's members did: send once they are known.
  runtime.sections.whenKnown(sec.sid, (section) => send(section, method, enc, reply, b));
  return future;
}

function send(section: Section, method: string, enc: EncodedArgs, reply: ReplyRef | undefined, b: number): void {
  const runtime = rt();
  const pes = section.pesPerCollection(runtime);
  section.refs.forEach((to, k) => {
    // One message object per collection: a copy sent to this PE is decoded in place on arrival.
    const a = k === 0 ? enc.a : structuredClone(enc.a);
    const msg: Message = { t: "bcast", to, m: method, a, r: enc.r, reply, b, sec: section.sid };
    for (const pe of pes[k]!) runtime.send(pe, msg);
  });
}

/** The section's members among a collection's elements here that have not run broadcast `b` yet. */
export function membersHere(section: Section, coll: LocalCollection, b: number): ElementRecord[] {
  const keys = section.keysIn(coll.ref.cid);
  const records: ElementRecord[] = [];
  if (!keys) return records;
  // Walk whichever is smaller (a few members of a big collection, or few elements here),
  // in member order so replies and calls go in a stable order.
  if (keys.size <= coll.elements.size) {
    for (const key of keys.keys()) {
      const record = coll.elements.get(key);
      if (record && firstTime(record, b)) records.push(record);
    }
  } else {
    for (const record of coll.elements.values()) if (keys.has(record.key) && firstTime(record, b)) records.push(record);
  }
  return records;
}
