import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { HistoryItem } from './types.js';

/** The agent's score over time (uPlot on a canvas), with the same figures as text for screen readers. */
export function ScoreChart({ items }: { items: HistoryItem[] }) {
  const box = useRef<HTMLDivElement>(null);
  const points = items
    .filter((i) => i.score !== null)
    .map((i) => [Date.parse(i.at) / 1000, i.score as number] as const)
    .sort((a, b) => a[0] - b[0]);
  useEffect(() => {
    const element = box.current;
    if (!element || points.length === 0) return;
    const css = getComputedStyle(document.documentElement);
    const color = (name: string) => css.getPropertyValue(name).trim();
    const width = () => Math.max(280, element.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 220,
        legend: { show: false },
        cursor: { show: true, drag: { x: false, y: false } },
        scales: { y: { range: [0, 100] } },
        axes: [
          { stroke: color('--muted'), grid: { stroke: color('--grid') }, ticks: { stroke: color('--grid') } },
          { stroke: color('--muted'), grid: { stroke: color('--grid') }, ticks: { stroke: color('--grid') } },
        ],
        series: [{}, { label: 'score', stroke: color('--accent'), width: 2, points: { show: points.length < 60 } }],
      },
      [points.map((p) => p[0]), points.map((p) => p[1])],
      element,
    );
    const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: 220 }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [items]);
  if (points.length === 0) return <p class="state">No scored heartbeat yet.</p>;
  const scores = points.map((p) => p[1]);
  const last = points[points.length - 1];
  return (
    <figure class="chart">
      <div
        ref={box}
        class="chart-box"
        role="img"
        aria-label={`Score over time, ${points.length} heartbeats`}
        data-testid="history-chart"
      />
      <figcaption data-testid="history-summary">
        {points.length} scored heartbeats; lowest {Math.min(...scores)}, highest {Math.max(...scores)}, latest{' '}
        {last?.[1]} ({last ? new Date(last[0] * 1000).toLocaleString() : ''}).
      </figcaption>
    </figure>
  );
}
