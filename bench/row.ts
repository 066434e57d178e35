/** One benchmark figure, printed beside the floor measured in the same run. */
export interface Row {
  name: string;
  value: number;
  unit: string;
  floor?: { name: string; value: number; unit: string };
  target?: string;
}

/** The median of `xs` (the upper middle one for an even count). */
export function medianOf(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/** Runs `fn` `reps` times and returns the median of its results. */
export async function median(reps: number, fn: () => Promise<number> | number): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < reps; i++) values.push(await fn());
  return medianOf(values);
}

/** Formats a table of rows for a terminal. */
export function formatRows(rows: Row[]): string {
  const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const lines = rows.map((r) => {
    const floor = r.floor ? `${fmt(r.floor.value)} ${r.floor.unit} (${r.floor.name})` : "";
    const ratio = r.floor && r.floor.unit === r.unit ? `×${(r.value / r.floor.value).toFixed(2)}` : "";
    return [r.name, `${fmt(r.value)} ${r.unit}`, floor, ratio, r.target ?? ""];
  });
  const header = ["figure", "value", "floor (same run)", "ratio", "target"];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  return [row(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(row)].join("\n");
}
