// Reading a process's Prometheus text exposition (its /metrics), for the figures the benchmarks print.

/** The text exposition at `url`. */
export async function scrape(url: string): Promise<string> {
  return (await fetch(url)).text();
}

/** A sample of a metric: its labels and its value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Every sample of `metric` (not its _bucket, _sum or _count series: name those as the metric). */
export function metricSamples(text: string, metric: string): Sample[] {
  const found: Sample[] = [];
  for (const [, labelText = '', value] of text.matchAll(new RegExp(`^${metric}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k!, v!]));
    found.push({ labels, value: Number(value) });
  }
  return found;
}

const hasLabels = (sample: Sample, labels: Record<string, string>): boolean =>
  Object.entries(labels).every(([k, v]) => sample.labels[k] === v);

/** The samples of `metric` whose labels include every `labels` pair, summed (0 when there is none). */
export function metricSum(text: string, metric: string, labels: Record<string, string> = {}): number {
  return metricSamples(text, metric)
    .filter((s) => hasLabels(s, labels))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Prometheus' histogram_quantile over one histogram's cumulative buckets (linear within a bucket); NaN when empty. */
export function histogramQuantile(text: string, metric: string, labels: Record<string, string>, q: number): number {
  const buckets: [number, number][] = [];
  for (const sample of metricSamples(text, `${metric}_bucket`)) {
    const le = sample.labels['le'];
    if (le !== undefined && hasLabels(sample, labels))
      buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value]);
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
