import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest, type HealthReport } from '@agentspec/sdk';
import { gapReport } from './gap.js';

const examples = resolve(import.meta.dirname, '..', '..', 'examples');
const coach = loadManifest(resolve(examples, 'fitness-coach', 'agent.yaml')).manifest;
const minimal = loadManifest(resolve(examples, 'minimal', 'agent.yaml')).manifest;
const none = { health: false, capabilities: false };

const live = (checks: HealthReport['checks']): HealthReport => ({
  agentName: 'fitness-coach',
  timestamp: '2026-11-23T00:00:00.000Z',
  status: 'healthy',
  summary: { passed: 0, failed: 0, warnings: 0, skipped: 0 },
  checks,
});
const toolChecks = ['plan-workout', 'log-workout', 'delete-history'].map((name) => ({
  id: `tool:${name}`,
  category: 'tool' as const,
  status: 'pass' as const,
  severity: 'info' as const,
}));

describe('gapReport', () => {
  it('caps manifest-static at 70 (grade C): healthcheckable −20 and discoverable −10', () => {
    const gap = gapReport({ manifest: coach, live: undefined, upstream: none });
    expect(gap).toMatchObject({ score: 70, grade: 'C', source: 'manifest-static' });
    expect(gap.issues.map((i) => i.property)).toEqual(['healthcheckable', 'discoverable']);
  });

  it('drops those deductions for an agent that serves /health and /capabilities', () => {
    expect(gapReport({ manifest: coach, live: undefined, upstream: { health: true, capabilities: true } }).score).toBe(
      100,
    );
  });

  it('adds auditable and evaluated for a spec without guardrails or evaluation', () => {
    const gap = gapReport({ manifest: minimal, live: undefined, upstream: none });
    expect(gap.issues.map((i) => i.property)).toEqual(['healthcheckable', 'discoverable', 'auditable', 'evaluated']);
    expect(gap.score).toBe(50);
  });

  it('maps live model checks: fail → critical, skip → high, pass → nothing', () => {
    const model = (status: 'pass' | 'fail' | 'skip') =>
      gapReport({
        manifest: coach,
        live: live([
          ...toolChecks,
          { id: 'model:groq/llama-3.3-70b-versatile', category: 'model', status, severity: 'error' },
        ]),
        upstream: none,
      });
    expect(model('pass')).toMatchObject({ score: 100, grade: 'A', source: 'agent-sdk', issues: [] });
    expect(model('fail').issues).toEqual([expect.objectContaining({ severity: 'critical', property: 'model.apiKey' })]);
    expect(model('skip').issues).toEqual([expect.objectContaining({ severity: 'high', property: 'model.apiKey' })]);
    expect(model('skip').score).toBe(85);
  });

  it('cross-references declared tools against the live report', () => {
    const gap = gapReport({ manifest: coach, live: live(toolChecks.slice(0, 2)), upstream: none });
    expect(gap.issues).toEqual([expect.objectContaining({ severity: 'medium', property: 'tools.delete-history' })]);
  });
});
