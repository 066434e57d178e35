// The notebook charts: bars and points are where the numbers say, labels are escaped, bad input fails early.
import { describe, expect, it } from "vitest";
import { barChart, lineChart } from "../../runtime/presentation/chart.ts";
import { MIME_BUNDLE } from "../../runtime/presentation/display.ts";

const attr = (tag: string, name: string) => Number(new RegExp(`${name}="([-\\d.]+)"`).exec(tag)![1]);
const tags = (svg: string, re: RegExp) => svg.match(re) ?? [];

describe("barChart", () => {
  it("draws one bar per series and PE, heights in proportion to the values", () => {
    const chart = barChart({ before: [40, 10], after: [25, 25] }, { title: "load per PE", unit: "ms" });
    const bars = tags(chart.svg, /<rect class="bar"[^>]*>/g);
    expect(bars).toHaveLength(4);
    const heights = bars.map((b) => attr(b, "height"));
    // series by series: before PE 0, before PE 1, after PE 0, after PE 1
    expect(heights[0]! / heights[1]!).toBeCloseTo(4, 1);
    expect(heights[2]).toBeCloseTo(heights[3]!, 5);
    expect(heights[0]! / heights[2]!).toBeCloseTo(40 / 25, 1);
    // every bar stands on the same baseline
    expect(new Set(bars.map((b) => (attr(b, "y") + attr(b, "height")).toFixed(0))).size).toBe(1);
    expect(chart.svg).toContain(">PE 0<");
    expect(chart.svg).toContain(">PE 1<");
    expect(chart.text).toBe(["load per PE (ms)", "      before  after", "PE 0  40      25", "PE 1  10      25"].join("\n"));
  });

  it("the y axis ends at a round number at or above the largest value, in round fifths", () => {
    const labels = (svg: string) => [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => m[1]);
    expect(labels(barChart({ a: [211, 94] }).svg)).toEqual(["0", "50", "100", "150", "200", "250"]);
    expect(labels(barChart({ a: [200] }).svg)).toEqual(["0", "40", "80", "120", "160", "200"]);
    expect(labels(barChart({ a: [0.7] }).svg)).toEqual(["0", "0.16", "0.32", "0.48", "0.64", "0.80"]);
  });

  it("shows itself as SVG and text in a notebook", () => {
    const bundle = barChart({ a: [1] })[MIME_BUNDLE]();
    expect(bundle["image/svg+xml"]).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(bundle["text/plain"]).toContain("1");
  });

  it("escapes titles, series names and categories", () => {
    const chart = barChart({ "<b>x</b>": [1, 2] }, { title: "a & <script>", categories: ["<i>", "\"q\""] });
    expect(chart.svg).not.toContain("<script>");
    expect(chart.svg).not.toContain("<b>");
    expect(chart.svg).not.toContain("<i>");
    expect(chart.svg).toContain("a &#38; &#60;script&#62;");
    expect(chart.svg).toContain("&#60;b&#62;x&#60;/b&#62;");
  });

  it("rejects what it can't draw, naming the problem", () => {
    expect(() => barChart({})).toThrow(/at least one named series/);
    expect(() => barChart({ load: [1, Number.NaN] })).toThrow(/series "load"\[1\] is NaN/);
    expect(() => barChart({ load: [1, 2] }, { categories: ["only one"] })).toThrow(/categories has 1 labels for 2 bars/);
  });
});

describe("lineChart", () => {
  it("draws a polyline and a point per value, higher values higher up", () => {
    const chart = lineChart({ "no LB": [10, 12, 11], LB: [10, 6, 5] }, { title: "time per step", unit: "ms" });
    expect(tags(chart.svg, /<polyline /g)).toHaveLength(2);
    const points = tags(chart.svg, /<circle class="point"[^>]*>/g);
    expect(points).toHaveLength(6);
    const ys = points.map((p) => attr(p, "cy"));
    expect(ys[1]).toBeLessThan(ys[4]!); // 12 ms sits above 6 ms (SVG y grows downwards)
    expect(ys[0]).toBeCloseTo(ys[3]!, 5); // equal values, equal heights
    const xs = points.map((p) => attr(p, "cx"));
    expect(xs[0]).toBeLessThan(xs[1]!);
    expect(chart.text.split("\n")).toEqual(["time per step (ms)", "step  no LB  LB", "1     10     10", "2     12     6", "3     11     5"]);
  });

  it("a single value still draws", () => {
    expect(tags(lineChart({ one: [3] }).svg, /<circle /g)).toHaveLength(1);
  });
});
