/**
 * A hand-written SVG line chart like the paper's throughput figure: throughput (y) against the
 * percentage of reads (x), one line per ensemble size, with the published points marked. No
 * dependencies; the output is a standalone .svg file.
 */

export interface ChartSeries {
  label: string;
  /** Points in x order; x in percent of reads, y in operations per second. */
  points: Array<{ x: number; y: number }>;
}

export interface ChartMark {
  /** Which series it belongs to (same colour). */
  seriesIndex: number;
  x: number;
  y: number;
  shape: "circle" | "square";
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** Published points, drawn hollow in their series' colour. */
  marks?: ChartMark[];
  /** Legend entries for the mark shapes. */
  markLegend?: Array<{ shape: "circle" | "square"; label: string }>;
  /**
   * "log" (powers of ten) when the lines span several orders of magnitude — writes at thousands of
   * ops/s beside reads at millions would lie flat on a linear axis; default "linear", as the paper.
   */
  yScale?: "linear" | "log";
}

const WIDTH = 760;
const HEIGHT = 480;
const MARGIN = { left: 84, right: 170, top: 44, bottom: 58 };
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const Y_TICKS_TARGET = 6;

export function renderThroughputChart(options: ChartOptions): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const ys = [...options.series.flatMap((series) => series.points.map((point) => point.y)), ...(options.marks ?? []).map((mark) => mark.y)]
    .filter((y) => Number.isFinite(y));
  const log = options.yScale === "log";
  const yTicks = log ? decadeTicks(ys) : niceTicks(Math.max(1, ...ys), Y_TICKS_TARGET);
  const yMin = yTicks[0]!;
  const yMax = yTicks[yTicks.length - 1]!;
  const yFraction = log
    ? (y: number) => (Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))
    : (y: number) => y / yMax;
  const xOf = (x: number) => MARGIN.left + (x / 100) * plotWidth;
  const yOf = (y: number) => MARGIN.top + plotHeight - yFraction(y) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`,
  ];
  for (const tick of yTicks) {
    const y = yOf(tick).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotWidth}" y2="${y}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(tick)}</text>`);
  }
  for (let x = 0; x <= 100; x += 10) {
    const px = xOf(x).toFixed(1);
    parts.push(`<line x1="${px}" y1="${MARGIN.top + plotHeight}" x2="${px}" y2="${MARGIN.top + plotHeight + 5}" stroke="black"/>`);
    parts.push(`<text x="${px}" y="${MARGIN.top + plotHeight + 19}" text-anchor="middle">${x}</text>`);
  }
  parts.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotHeight}" stroke="black"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotHeight}" x2="${MARGIN.left + plotWidth}" y2="${MARGIN.top + plotHeight}" stroke="black"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 16}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text x="20" y="${MARGIN.top + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 20 ${MARGIN.top + plotHeight / 2})">${escapeXml(options.yLabel)}</text>`,
  );
  options.series.forEach((series, index) => {
    const colour = COLOURS[index % COLOURS.length]!;
    const points = series.points.filter((point) => Number.isFinite(point.y))
      .map((point) => `${xOf(point.x).toFixed(1)},${yOf(point.y).toFixed(1)}`).join(" ");
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points}"/>`);
  });
  for (const mark of options.marks ?? []) {
    const colour = COLOURS[mark.seriesIndex % COLOURS.length]!;
    parts.push(markShape(mark.shape, xOf(mark.x), yOf(mark.y), colour));
  }
  parts.push(...legend(options, MARGIN.left + plotWidth + 16, MARGIN.top + 8));
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function legend(options: ChartOptions, x: number, top: number): string[] {
  const parts: string[] = [];
  let y = top;
  options.series.forEach((series, index) => {
    const colour = COLOURS[index % COLOURS.length]!;
    parts.push(`<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${x + 28}" y="${y}" dominant-baseline="middle">${escapeXml(series.label)}</text>`);
    y += 18;
  });
  for (const entry of options.markLegend ?? []) {
    y += 4;
    parts.push(markShape(entry.shape, x + 11, y, "black"));
    parts.push(`<text x="${x + 28}" y="${y}" dominant-baseline="middle">${escapeXml(entry.label)}</text>`);
    y += 18;
  }
  return parts;
}

function markShape(shape: "circle" | "square", x: number, y: number, colour: string): string {
  if (shape === "circle") {
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4.5" fill="white" stroke="${colour}" stroke-width="1.5"/>`;
  }
  return `<rect x="${(x - 4).toFixed(1)}" y="${(y - 4).toFixed(1)}" width="8" height="8" fill="white" stroke="${colour}" stroke-width="1.5"/>`;
}

/** Ticks 0, step, 2·step, ... covering `max`, with step 1, 2 or 5 × 10^k. */
export function niceTicks(max: number, target: number): number[] {
  const rough = max / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= rough) ?? 10 * magnitude;
  const ticks = [];
  // Bounded: at most target + 2 ticks (step ≥ max / target).
  for (let tick = 0; ticks.length <= target + 2; tick += step) {
    ticks.push(tick);
    if (tick >= max) break;
  }
  return ticks;
}

/** Powers of ten from just below the smallest positive value to just above the largest. */
export function decadeTicks(values: readonly number[]): number[] {
  const positive = values.filter((value) => value > 0);
  if (positive.length === 0) return [1, 10];
  const low = Math.floor(Math.log10(Math.min(...positive)));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...positive))));
  return Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i));
}

function formatTick(value: number): string {
  if (value >= 1_000_000) return `${trim(value / 1_000_000)}M`;
  if (value >= 1000) return `${trim(value / 1000)}k`;
  return String(value);
}

function trim(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}
