/** One sample of a Prometheus text exposition (GET /metrics): its labels and value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of one metric in a /metrics answer. */
export function samplesOf(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of a metric without labels, if it is there. */
export const metricValue = (text: string, name: string): number | undefined =>
  samplesOf(text, name).find((s) => Object.keys(s.labels).length === 0)?.value;
