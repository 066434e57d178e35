/** A member's contribution to a section's reduction (Chare.contribute/reduce/allreduce with a section). */
import { CharmError, errorToData } from "../protocol/errors.ts";
import { decode, encodeValue } from "../protocol/codec.ts";
import type { ElementRecord } from "../core/chare.ts";
import { rt } from "../core/current.ts";
import { Future } from "../core/future.ts";
import type { ReducerName } from "../collectives/reducers.ts";
import type { ReductionTarget } from "../collectives/reduction.ts";
import { sectionRef } from "./proxy.ts";

/** Contributes to `section`'s next reduction; returns the member's Future for an allreduce. */
export function contributeToSection(record: ElementRecord, data: unknown, reducer: ReducerName | undefined, target: ReductionTarget | "all", section: unknown): Future<unknown> | undefined {
  const ref = sectionRef(section);
  if (!ref) throw new CharmError(`${record.label}: the section argument must be a section proxy (from charm.split, charm.combine or proxy.slice), got ${section === null ? "null" : typeof section}`);
  const runtime = rt();
  const known = runtime.sections.get(ref.sid);
  if (known) return runtime.reductions.contribute(record, data, reducer, target, known);
  // The proxy came here before the section's members did (another PE sent it): contribute once
  // they arrive. The data is copied now, as contribute would; the element stays here meanwhile
  // (counted busy), since its section reduction count must change where it is.
  const enc = encodeValue(data, `${record.label}'s contribution`);
  const copy = enc.r ? decode(enc.v) : enc.v;
  const result = target === "all" ? new Future<unknown>() : undefined;
  record.busy++;
  runtime.sections.whenKnown(ref.sid, (known) => {
    record.busy--;
    try {
      const mine = runtime.reductions.contribute(record, copy, reducer, target, known);
      if (result && mine) mine.then((v) => result.send(v), (e) => result.fail(e));
    } catch (err) {
      if (result) result.fail(err);
      else runtime.reportUnhandled(errorToData(err, runtime.self, record.label, "contribute"));
    }
    if (record.busy === 0 && record.leaving !== undefined) runtime.balancing.leaveNow(record);
  });
  return result;
}
