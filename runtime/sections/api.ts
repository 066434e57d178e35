/** The section calls on `charm`: split and combine (slices are `proxy.slice(…)`). */
import type { ChareOf, CollectionProxy, SectionProxy } from "../core/proxy-types.ts";
import { combine, split, type SplitOptions } from "./split.ts";

/** `charm.split` and `charm.combine`, typed from the proxies given. */
export const sectionApi = {
  /**
   * Splits an array, group or section into `n` sections: `{ by: (index) => section number, or -1
   * for none }` evaluated here over every index, or `{ elems: [[indices of section 0], …] }`.
   */
  split<C>(proxy: CollectionProxy<C> | SectionProxy<C>, n: number, options: SplitOptions): SectionProxy<C>[] {
    return split(proxy, n, options);
  },
  /** One section made of every member of the given arrays, groups and sections (each element once). */
  combine<P extends object[]>(...proxies: P): SectionProxy<ChareOf<P[number]>> {
    return combine(proxies);
  },
};
