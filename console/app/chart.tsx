import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { THEME_EVENT } from './layout.tsx';

interface Series {
  label: string;
  /** A CSS custom property of the theme (`--good`), so the chart follows light and dark. */
  colorVar: string;
  values: number[];
}

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/**
 * A time-series line chart (uPlot: small, fast, canvas). `times` in seconds since the epoch. The
 * figures it draws are also said in text next to it (the chart is an image to a screen reader).
 */
export function LineChart(props: { label: string; times: number[]; series: Series[]; height?: number }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('|');
  const [theme, setTheme] = useState(document.documentElement.dataset.theme);
  useEffect(() => {
    const onTheme = () => setTheme(document.documentElement.dataset.theme);
    addEventListener(THEME_EVENT, onTheme);
    return () => removeEventListener(THEME_EVENT, onTheme);
  }, []);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const text = cssVar('--muted');
    const grid = cssVar('--border');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    plot.current = new uPlot(
      {
        width: el.clientWidth || 600,
        height: props.height ?? 160,
        series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: cssVar(s.colorVar), width: 2 }))],
        axes: [axis, axis],
        legend: { show: true },
        cursor: { show: true },
      },
      [props.times, ...props.series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: el.clientWidth, height: props.height ?? 160 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt when the series change shape or the theme changes; data alone goes through setData.
  }, [shape, props.height, theme]);
  useEffect(() => {
    plot.current?.setData([props.times, ...props.series.map((s) => s.values)]);
  }, [props.times, props.series]);
  return <div class="chart" ref={host} role="img" aria-label={props.label} />;
}
