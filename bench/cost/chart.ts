/**
 * A dependency-free SVG line chart: monthly cost against item size, both axes
 * logarithmic, one panel per read/write mix (small multiples sharing one y scale).
 * Deterministic output (no dates, no randomness), so a regenerated chart diffs cleanly.
 */

/** One line of a panel. */
export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  /** SVG stroke-dasharray, e.g. '6 3'; undefined = solid. */
  readonly dash?: string;
  /** Points [x, y], x ascending; both strictly positive (log axes). */
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** x values to mark with a dot (the table sizes). */
  readonly markAt?: readonly number[];
}

/** One panel: a title, its series and an optional vertical marker. */
export interface ChartPanel {
  readonly title: string;
  readonly series: readonly ChartSeries[];
  /** A vertical dashed line, e.g. the break-even item size. */
  readonly marker?: { readonly x: number; readonly label: string };
}

export interface ChartOptions {
  readonly title: string;
  readonly subtitle?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** x range of every panel. */
  readonly xDomain: readonly [number, number];
  /** Tick values on the x axis and their labels. */
  readonly xTicks: ReadonlyArray<readonly [number, string]>;
  /** Formats a y tick value (powers of ten). */
  readonly yFormat: (v: number) => string;
  readonly panelWidth?: number;
  readonly panelHeight?: number;
}

/** Maps a value in `domain` to `range` on a log10 scale. Throws on non-positive input. */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): (v: number) => number {
  const [d0, d1] = domain;
  if (!(d0 > 0 && d1 > d0)) throw new RangeError(`log scale domain must be 0 < min < max, got [${d0}, ${d1}]`);
  const l0 = Math.log10(d0);
  const span = Math.log10(d1) - l0;
  return (v: number) => {
    if (!(v > 0)) throw new RangeError(`log scale cannot place ${v}`);
    return range[0] + (Math.log10(v) - l0) / span * (range[1] - range[0]);
  };
}

/** Powers of ten that enclose every value: [10^floor(log min), 10^ceil(log max)]. */
export function decadeDomain(values: readonly number[]): [number, number] {
  const positive = values.filter(v => v > 0);
  if (positive.length === 0) throw new RangeError('no positive values to chart');
  const lo = Math.floor(Math.log10(Math.min(...positive)));
  let hi = Math.ceil(Math.log10(Math.max(...positive)));
  if (hi === lo) hi = lo + 1;
  return [10 ** lo, 10 ** hi];
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/** Renders the panels side by side as one SVG document. */
export function renderChart(panels: readonly ChartPanel[], options: ChartOptions): string {
  if (panels.length === 0) throw new RangeError('a chart needs at least one panel');
  const pw = options.panelWidth ?? 320;
  const ph = options.panelHeight ?? 300;
  const margin = { top: options.subtitle ? 96 : 80, left: 78, right: 18, bottom: 64, gap: 26 };
  const width = margin.left + panels.length * pw + (panels.length - 1) * margin.gap + margin.right;
  const height = margin.top + ph + margin.bottom;
  const yDomain = decadeDomain(panels.flatMap(p => p.series.flatMap(s => s.points.map(pt => pt[1]))));
  const y = logScale(yDomain, [margin.top + ph, margin.top]);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<title>${esc(options.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="17" font-weight="bold">${esc(options.title)}</text>`);
  if (options.subtitle) {
    out.push(`<text x="${width / 2}" y="44" text-anchor="middle" font-size="12" fill="#444">${esc(options.subtitle)}</text>`);
  }

  // Legend (from the first panel's series).
  const legendY = options.subtitle ? 66 : 50;
  const legendItemWidth = 190;
  const legendX0 = width / 2 - (panels[0].series.length * legendItemWidth) / 2;
  panels[0].series.forEach((s, i) => {
    const lx = legendX0 + i * legendItemWidth;
    out.push(`<line x1="${r1(lx)}" y1="${legendY}" x2="${r1(lx + 28)}" y2="${legendY}" stroke="${s.color}" stroke-width="3"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    out.push(`<text x="${r1(lx + 34)}" y="${legendY + 4}">${esc(s.label)}</text>`);
  });

  // Shared y label.
  out.push(`<text transform="translate(18 ${margin.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);

  panels.forEach((panel, i) => {
    const left = margin.left + i * (pw + margin.gap);
    const x = logScale(options.xDomain, [left, left + pw]);
    out.push('<g>');
    out.push(`<text x="${r1(left + pw / 2)}" y="${margin.top - 8}" text-anchor="middle" font-weight="bold">${esc(panel.title)}</text>`);
    out.push(`<rect x="${left}" y="${margin.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    // y grid and ticks (decades).
    for (let v = yDomain[0]; v <= yDomain[1] * 1.0001; v *= 10) {
      const yy = r1(y(v));
      out.push(`<line x1="${left}" y1="${yy}" x2="${left + pw}" y2="${yy}" stroke="#e3e3e3"/>`);
      if (i === 0) out.push(`<text x="${left - 6}" y="${r1(yy + 4)}" text-anchor="end">${esc(options.yFormat(v))}</text>`);
    }
    // x grid and ticks.
    for (const [v, label] of options.xTicks) {
      const xx = r1(x(v));
      out.push(`<line x1="${xx}" y1="${margin.top}" x2="${xx}" y2="${margin.top + ph}" stroke="#e3e3e3"/>`);
      out.push(`<text x="${xx}" y="${margin.top + ph + 16}" text-anchor="middle">${esc(label)}</text>`);
    }
    out.push(`<text x="${r1(left + pw / 2)}" y="${margin.top + ph + 40}" text-anchor="middle">${esc(options.xLabel)}</text>`);
    if (panel.marker) {
      const mx = r1(x(panel.marker.x));
      out.push(`<line x1="${mx}" y1="${margin.top}" x2="${mx}" y2="${margin.top + ph}" stroke="#555" stroke-dasharray="2 3"/>`);
      out.push(`<text x="${r1(mx + 4)}" y="${margin.top + 14}" font-size="11" fill="#333">${esc(panel.marker.label)}</text>`);
    }
    for (const s of panel.series) {
      const d = s.points.map(([px, py], j) => `${j === 0 ? 'M' : 'L'}${r1(x(px))} ${r1(y(py))}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}><title>${esc(s.label)}</title></path>`);
      for (const mxv of s.markAt ?? []) {
        const pt = s.points.find(p => p[0] === mxv);
        if (pt) out.push(`<circle cx="${r1(x(pt[0]))}" cy="${r1(y(pt[1]))}" r="3" fill="${s.color}"/>`);
      }
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
