// Index helpers shared by the runtime tests.

/** Every index of a dense array of extent `dims`, in row-major order (the expected gather order). */
export function rowMajor(dims: number[]): number[][] {
  const out: number[][] = [];
  const walk = (prefix: number[]) => {
    if (prefix.length === dims.length) { out.push(prefix); return; }
    for (let i = 0; i < dims[prefix.length]!; i++) walk([...prefix, i]);
  };
  walk([]);
  return out;
}

/** The PE the default block map puts element `i` of an `n`-element 1-D array on (Charm++'s BlockMap). */
export function blockPe(i: number, n: number, numPes: number): number {
  return Math.floor((i * numPes) / n);
}

/** 0 … n-1: the PEs of an n-PE runtime, for expectations that depend on the PE count. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
