import { formatNumber } from './stats.ts';

/**
 * One figure of a benchmark next to its baseline, measured in the same run. `ratio` is always
 * value ÷ baseline: for rates higher is better, for latencies lower is better (`better`).
 */
export interface Row {
  bench: string;
  metric: string;
  unit: string;
  value: number;
  baseline: number;
  baselineLabel: string;
  better: 'higher' | 'lower';
  aim?: { text: string; met: boolean };
}

/** Free-form measured facts printed under the table (phase timings, counts, settings). */
export interface Note {
  bench: string;
  text: string;
}

export interface BenchResult {
  rows: Row[];
  notes: Note[];
}

export function ratioOf(row: Row): number {
  return row.baseline > 0 ? row.value / row.baseline : Number.NaN;
}

function cell(value: number, unit: string): string {
  return `${formatNumber(value)} ${unit}`;
}

/** Two decimals; a ratio below 0.01 keeps two significant digits rather than reading ×0.00. */
function formatRatio(ratio: number): string {
  return ratio !== 0 && Math.abs(ratio) < 0.01 ? ratio.toPrecision(2) : ratio.toFixed(2);
}

/** A Markdown table (readable as plain text too). */
export function renderTable(rows: readonly Row[]): string {
  const header = ['benchmark', 'metric', 'Switchyard', 'baseline', 'ratio', 'aim'];
  const body = rows.map((r) => {
    const ratio = ratioOf(r);
    const aim = r.aim ? `${r.aim.text}: ${r.aim.met ? 'met' : 'MISSED'}` : '';
    return [
      r.bench,
      r.metric,
      cell(r.value, r.unit),
      `${cell(r.baseline, r.unit)} (${r.baselineLabel})`,
      Number.isFinite(ratio) ? `×${formatRatio(ratio)}` : 'n/a',
      aim,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function renderNotes(notes: readonly Note[]): string {
  return notes.map((n) => `- [${n.bench}] ${n.text}`).join('\n');
}
