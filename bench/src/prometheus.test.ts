import { describe, expect, it } from 'vitest';
import { histogramQuantile, metricSamples, metricSum } from './prometheus.js';

const text = `# HELP workqueue_depth Current depth of workqueue
workqueue_depth{name="agent"} 3
workqueue_depth{name="registration"} 4
agentspec_operator_cache_json_bytes{resource="agents"} 100
agentspec_operator_cache_json_bytes{resource="deployments"} 250
up 1
h_bucket{name="agent",le="0.1"} 50
h_bucket{name="agent",le="1"} 90
h_bucket{name="agent",le="+Inf"} 100
h_bucket{xname="agent",le="+Inf"} 7
`;

describe('reading /metrics', () => {
  it('sums the samples of a metric, all or those with the labels given', () => {
    expect(metricSum(text, 'agentspec_operator_cache_json_bytes')).toBe(350);
    expect(metricSum(text, 'workqueue_depth', { name: 'agent' })).toBe(3);
    expect(metricSum(text, 'up')).toBe(1);
    expect(metricSum(text, 'missing')).toBe(0);
  });

  it('lists a metric’s samples with their labels', () => {
    expect(metricSamples(text, 'workqueue_depth')).toEqual([
      { labels: { name: 'agent' }, value: 3 },
      { labels: { name: 'registration' }, value: 4 },
    ]);
    expect(metricSamples(text, 'up')).toEqual([{ labels: {}, value: 1 }]);
  });

  it('interpolates a quantile within its bucket, as histogram_quantile does', () => {
    expect(histogramQuantile(text, 'h', { name: 'agent' }, 0.5)).toBeCloseTo(0.1);
    expect(histogramQuantile(text, 'h', { name: 'agent' }, 0.7)).toBeCloseTo(0.1 + 0.9 * (20 / 40));
    expect(histogramQuantile(text, 'h', { name: 'agent' }, 0.99)).toBe(1);
    expect(histogramQuantile(text, 'h', { name: 'other' }, 0.5)).toBeNaN();
  });
});
