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
