/** The paper benchmark's SVG chart and tables: well-formed, one line per ensemble size. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runPaperBench } from "../../bench/paper/paper_bench.ts";
import { decadeTicks, niceTicks, renderThroughputChart } from "../../bench/paper/throughput_chart.ts";
import { renderTable } from "../../bench/markdown_table.ts";

/** Checks that tags nest and close (a small XML well-formedness check); returns the tag names opened. */
function parseTags(svg: string): string[] {
  const stack: string[] = [];
  const opened: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let position = 0;
  for (let match = tag.exec(svg); match !== null; match = tag.exec(svg)) {
    const between = svg.slice(position, match.index);
    assert.ok(!between.includes("<") && !between.includes(">"), `stray markup before offset ${match.index}: ${between.slice(0, 60)}`);
    position = match.index + match[0].length;
    const [, closing, name, , selfClosing] = match;
    if (closing === "/") assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else {
      opened.push(name!);
      if (selfClosing !== "/") stack.push(name!);
    }
  }
  assert.equal(svg.slice(position).trim(), "", "text after the last tag");
  assert.deepEqual(stack, [], "unclosed elements");
  return opened;
}

describe("paper benchmark chart", () => {
  test("renderThroughputChart draws one polyline per series, axes, ticks and a legend", () => {
    const svg = renderThroughputChart({
      title: "a <test> & chart",
      xLabel: "reads (%)",
      yLabel: "ops/s",
      series: [
        { label: "3 servers", points: [{ x: 0, y: 20_000 }, { x: 50, y: 60_000 }, { x: 100, y: 900_000 }] },
        { label: "5 servers", points: [{ x: 0, y: 15_000 }, { x: 100, y: Number.NaN }] },
      ],
      marks: [{ seriesIndex: 0, x: 100, y: 87_000, shape: "circle" }],
      markLegend: [{ shape: "circle", label: "paper" }],
    });
    const tags = parseTags(svg);
    assert.equal(tags[0], "svg");
    assert.equal(tags.filter((name) => name === "polyline").length, 2);
    assert.ok(svg.includes("a &lt;test&gt; &amp; chart"));
    assert.ok(svg.includes(">3 servers<") && svg.includes(">5 servers<"));
    assert.ok(!svg.includes("NaN"), "a missing point must be left out, not drawn at NaN");
  });

  test("a log-scale chart has decade ticks around the data and stays inside the plot", () => {
    assert.deepEqual(decadeTicks([20_000, 4_500_000]), [10_000, 100_000, 1_000_000, 10_000_000]);
    assert.deepEqual(decadeTicks([0, 1000]), [1000, 10_000]);
    const svg = renderThroughputChart({
      title: "log",
      xLabel: "reads (%)",
      yLabel: "ops/s",
      yScale: "log",
      series: [{ label: "3 servers", points: [{ x: 0, y: 20_000 }, { x: 100, y: 4_500_000 }] }],
    });
    parseTags(svg);
    for (const label of [">10k<", ">100k<", ">1M<", ">10M<"]) assert.ok(svg.includes(label), `no ${label} tick`);
    const ys = [...svg.matchAll(/points="([^"]*)"/g)].flatMap((match) => match[1]!.split(" ").map((point) => Number(point.split(",")[1])));
    assert.ok(ys.every((y) => y >= 44 && y <= 480 - 58), `a point left the plot: ${ys.join(", ")}`);
  });

  test("niceTicks covers the maximum with round steps", () => {
    assert.deepEqual(niceTicks(950_000, 6), [0, 200_000, 400_000, 600_000, 800_000, 1_000_000]);
    assert.deepEqual(niceTicks(1, 6), [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1]);
  });

  test("a tiny sweep gives the paper's tables and a chart with one polyline per size", async () => {
    const { tables, svg, remarks } = await runPaperBench({
      quick: true,
      sizes: [3, 5],
      readPercents: [0, 100],
      clientsPerServer: 2,
      window: 10,
      warmupOps: 50,
      warmupMsMax: 5_000,
      measureOps: 300,
      measureMsMax: 20_000,
    });
    assert.equal(tables.length, 4);
    const [table1, extremes] = tables;
    assert.match(table1!.title, /Table 1/);
    assert.deepEqual(table1!.rows.map((row) => row[0]), ["3", "5", "7", "9", "11", "13"]);
    assert.equal(table1!.rows[0]![2], "87,000");
    assert.equal(table1!.rows[4]![2], "—", "the paper has no 11-server row");
    assert.equal(extremes!.rows[5]![5], "4,592");
    for (const table of tables) assert.ok(renderTable(table).includes("|"));
    assert.equal(parseTags(svg).filter((name) => name === "polyline").length, 2);
    assert.ok(!remarks.some((remark) => /failures/.test(remark)), remarks.join("\n"));
  });
});
