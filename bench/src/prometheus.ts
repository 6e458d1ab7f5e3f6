// Reading a process's Prometheus text exposition (its /metrics), for the figures the benchmarks print.

/** The text exposition at `url`. */
export async function scrape(url: string): Promise<string> {
  return (await fetch(url)).text();
}

const hasLabels = (labelText: string, labels: Record<string, string>): boolean =>
  Object.entries(labels).every(([k, v]) => labelText.split(',').includes(`${k}="${v}"`));

/** The samples of `metric` whose labels include every `labels` pair, summed (0 when there is none). */
export function metricSum(text: string, metric: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [, labelText = '', value] of text.matchAll(new RegExp(`^${metric}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    if (hasLabels(labelText, labels)) sum += Number(value);
  }
  return sum;
}

/** Prometheus' histogram_quantile over one histogram's cumulative buckets (linear within a bucket); NaN when empty. */
export function histogramQuantile(text: string, metric: string, labels: Record<string, string>, q: number): number {
  const buckets: [number, number][] = [];
  for (const [, labelText = '', value] of text.matchAll(new RegExp(`^${metric}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    if (!hasLabels(labelText, labels)) continue;
    const le = /le="([^"]+)"/.exec(labelText)?.[1];
    if (le !== undefined) buckets.push([le === '+Inf' ? Infinity : Number(le), Number(value)]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let [lowerBound, lowerCount] = [0, 0];
  for (const [le, cumulative] of buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return lowerBound;
      return lowerBound + ((le - lowerBound) * (rank - lowerCount)) / Math.max(1, cumulative - lowerCount);
    }
    [lowerBound, lowerCount] = [le, cumulative];
  }
  return lowerBound;
}
