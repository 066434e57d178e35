/**
 * Typed arrays their sender gave up (`charm.move(array)`): the next send moves their memory to
 * the receiver instead of copying it. A copy of a big array costs more than the memcpy itself
 * here: its fresh pages fault on first touch (~1 GB/s for 1 MiB on this VM, memcpy ~40 GB/s),
 * while a moved buffer's pages are already in place at both ends.
 */

const given = new WeakSet<ArrayBufferView>();

/** Marks `view` so that the next message it is sent in takes its memory instead of a copy (it is then empty here). */
export function move<T extends ArrayBufferView>(view: T): T {
  if (!ArrayBuffer.isView(view)) throw new TypeError(`charm.move(array) takes a typed array or DataView, got ${view === null ? "null" : typeof view}`);
  given.add(view);
  return view;
}

/**
 * The buffer behind `view`, detached from it (so the sender can't touch what the receiver now
 * owns), if it was given up and can move; undefined otherwise (then it is copied). A buffer
 * shared with others (Node's pool of small Buffers, a SharedArrayBuffer) can't move.
 */
export function takeGiven(view: ArrayBufferView): ArrayBuffer | undefined {
  if (!given.has(view)) return undefined;
  given.delete(view);
  const buffer = view.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return undefined;
  try {
    return structuredClone(buffer, { transfer: [buffer] });
  } catch {
    return undefined; // untransferable (Node's Buffer pool): copied instead
  }
}
