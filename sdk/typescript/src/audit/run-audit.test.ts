import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest, type AgentManifest } from '../manifest/load.js';
import { gradeFor } from './grade.js';
import { AUDIT_RULES } from './rules.js';
import { runAudit } from './run-audit.js';

const coach = loadManifest(
  resolve(import.meta.dirname, '..', '..', '..', '..', 'examples', 'fitness-coach', 'agent.yaml'),
).manifest;

/** A deep copy of the fitness coach (which passes every rule) with `change` applied. */
function coachWith(change: (m: AgentManifest) => void): AgentManifest {
  const copy = structuredClone(coach);
  change(copy);
  return copy;
}

const failing = (m: AgentManifest): string[] =>
  runAudit(m)
    .violations.map((v) => v.ruleId)
    .sort();

describe('runAudit rules', () => {
  it('passes every rule for the fitness coach example', () => {
    const result = runAudit(coach);
    expect(result.violations).toEqual([]);
    expect(result).toMatchObject({ score: 100, grade: 'A', rulesChecked: AUDIT_RULES.length });
  });

  // Each case breaks the coach in one way and names exactly the rules that must fail.
  it.each<[string, (m: AgentManifest) => void, string[]]>([
    ['no fallback model', (m) => delete m.spec.model.fallback, ['MODEL-01']],
    ['model id "latest"', (m) => (m.spec.model.id = 'latest'), ['MODEL-02', 'SEC-LLM-05']],
    ['model id ending in ":latest"', (m) => (m.spec.model.id = 'llama3:latest'), ['MODEL-02']],
    ['no monthly cost limit', (m) => delete m.spec.model.costControls, ['MODEL-03']],
    ['fallback without maxRetries', (m) => delete m.spec.model.fallback?.maxRetries, ['MODEL-04']],
    [
      'no prompt-injection or topic-filter guardrail',
      (m) => (m.spec.guardrails!.input = [{ type: 'pii-detector', action: 'scrub' }]),
      ['SEC-LLM-01'],
    ],
    ['no output guardrail', (m) => (m.spec.guardrails!.output = []), ['SEC-LLM-02']],
    ['an inline system prompt', (m) => (m.spec.prompts.system = 'You are a coach.'), ['SEC-LLM-03']],
    [
      'neither rate limit nor spend limit',
      (m) => {
        delete m.spec.model.costControls;
        delete m.spec.api!.rateLimit;
      },
      ['MODEL-03', 'SEC-LLM-04'],
    ],
    ['no model provider', (m) => (m.spec.model.provider = ''), ['SEC-LLM-05']],
    [
      'long-term memory without PII scrubbing',
      (m) => (m.spec.memory!.hygiene!.piiScrubFields = []),
      ['MEM-01', 'SEC-LLM-06'],
    ],
    ['a tool without annotations', (m) => delete m.spec.tools![0]!.annotations, ['SEC-LLM-07', 'SEC-LLM-08']],
    ['a tool without destructiveHint', (m) => delete m.spec.tools![2]!.annotations!.destructiveHint, ['SEC-LLM-08']],
    ['no CI gate', (m) => (m.spec.evaluation!.ciGate = false), ['EVAL-02', 'SEC-LLM-09']],
    ['no evaluation framework', (m) => delete m.spec.evaluation!.framework, ['SEC-LLM-09']],
    ['a model key not from $secret:', (m) => (m.spec.model.apiKey = '$env:GROQ_API_KEY'), ['SEC-LLM-10']],
    ['short-term memory without ttlSeconds', (m) => delete m.spec.memory!.shortTerm!.ttlSeconds, ['MEM-02']],
    ['long-term memory without ttlDays', (m) => delete m.spec.memory!.longTerm!.ttlDays, ['MEM-02']],
    ['long-term memory without audit log', (m) => (m.spec.memory!.hygiene!.auditLog = false), ['MEM-03']],
    ['vector memory without namespace', (m) => (m.spec.memory!.vector = { backend: 'qdrant' }), ['MEM-04']],
    ['short-term memory without maxTokens', (m) => delete m.spec.memory!.shortTerm!.maxTokens, ['MEM-05']],
    ['no evaluation dataset', (m) => (m.spec.evaluation!.datasets = []), ['EVAL-01']],
    ['no hallucination threshold', (m) => delete m.spec.evaluation!.thresholds!.hallucination, ['EVAL-03']],
    ['hallucination not measured', (m) => (m.spec.evaluation!.metrics = ['faithfulness']), ['EVAL-03']],
    ['no tracing', (m) => delete m.spec.observability!.tracing, ['OBS-01']],
    ['unstructured logs', (m) => (m.spec.observability!.logging!.structured = false), ['OBS-02']],
    ['nothing redacted from logs', (m) => delete m.spec.observability!.logging!.redactFields, ['OBS-03']],
    ['a blank description', (m) => (m.metadata.description = '  '), ['META-01']],
    ['temperature above 1.5', (m) => (m.spec.model.parameters!.temperature = 1.6), ['META-02']],
  ])('fails on %s', (_what, change, expected) => {
    expect(failing(coachWith(change))).toEqual(expected.sort());
  });

  it.each<[string, (m: AgentManifest) => void]>([
    ['no fallback at all (MODEL-04)', (m) => delete m.spec.model.fallback],
    ['no tools (SEC-LLM-07, SEC-LLM-08)', (m) => delete m.spec.tools],
    [
      'no long-term memory (SEC-LLM-06, MEM-01, MEM-03)',
      (m) => {
        delete m.spec.memory!.longTerm;
        m.spec.memory!.hygiene = { auditLog: false };
      },
    ],
    ['no short-term memory (MEM-02, MEM-05)', (m) => delete m.spec.memory!.shortTerm],
    ['no vector memory (MEM-04)', (m) => delete m.spec.memory!.vector],
    ['no logging block (OBS-02)', (m) => (m.spec.observability!.logging = { structured: true, redactFields: ['x'] })],
    ['temperature exactly 1.5 (META-02)', (m) => (m.spec.model.parameters!.temperature = 1.5)],
  ])('treats a rule as passed when it does not apply: %s', (_what, change) => {
    const ids = failing(coachWith(change));
    expect(ids.filter((id) => !['MODEL-01'].includes(id))).toEqual([]);
  });

  it('has one test case per rule above and unique ids', () => {
    expect(new Set(AUDIT_RULES.map((r) => r.id)).size).toBe(AUDIT_RULES.length);
    expect(AUDIT_RULES).toHaveLength(27);
  });
});

describe('runAudit scoring', () => {
  const metadataOnly = (
    temperature: number,
    suppressions?: NonNullable<AgentManifest['spec']['compliance']>['suppressions'],
  ) =>
    coachWith((m) => {
      m.spec.model.parameters!.temperature = temperature;
      m.spec.compliance = { packs: ['metadata-quality'], ...(suppressions ? { suppressions } : {}) };
    });
  const now = new Date('2026-06-15T12:00:00Z');

  it('weights critical 4, high 3, medium 2, low 1 and rounds 100 × passed / total', () => {
    // META-01 (low, 1) passes, META-02 (medium, 2) fails: round(100 × 1 / 3) = 33.
    const result = runAudit(metadataOnly(1.8), { now });
    expect(result).toMatchObject({ score: 33, grade: 'F', rulesChecked: 2 });
    expect(result.packs).toEqual([{ pack: 'metadata-quality', score: 33, passed: 1, failed: 1, suppressed: 0 }]);
    const resilience = runAudit(
      coachWith((m) => {
        delete m.spec.model.fallback;
        m.spec.compliance = { packs: ['model-resilience'] };
      }),
      { now },
    );
    // MODEL-01 high (3) fails; MODEL-02 medium (2), MODEL-03 medium (2), MODEL-04 low (1) pass: round(100 × 5 / 8) = 63.
    expect(resilience.score).toBe(63);
    expect(resilience.grade).toBe('C');
  });

  it('audits every pack when compliance.packs is empty or missing', () => {
    const all = runAudit(
      coachWith((m) => delete m.spec.compliance),
      { now },
    );
    expect(all.packs.map((p) => p.pack)).toEqual([
      'owasp-llm-top10',
      'model-resilience',
      'memory-hygiene',
      'evaluation-coverage',
      'observability',
      'metadata-quality',
    ]);
  });

  it('removes a suppressed rule from the weights until the suppression expires', () => {
    const active = runAudit(metadataOnly(1.8, [{ rule: 'META-02', reason: 'creative agent', expires: '2026-06-15' }]), {
      now,
    });
    expect(active).toMatchObject({ score: 100, violations: [], rulesChecked: 1 });
    expect(active.suppressed).toEqual([{ ruleId: 'META-02', reason: 'creative agent', expires: '2026-06-15' }]);
    expect(active.packs[0]).toMatchObject({ suppressed: 1, passed: 1, failed: 0 });

    const expired = runAudit(
      metadataOnly(1.8, [{ rule: 'META-02', reason: 'creative agent', expires: '2026-06-14' }]),
      { now },
    );
    expect(expired).toMatchObject({ score: 33, suppressed: [] });

    const forever = runAudit(metadataOnly(1.8, [{ rule: 'META-02', reason: 'r', approvedBy: 'sec' }]), { now });
    expect(forever.score).toBe(100);
  });

  it('scores 100 when every rule is suppressed', () => {
    const result = runAudit(
      metadataOnly(1.8, [
        { rule: 'META-01', reason: 'r' },
        { rule: 'META-02', reason: 'r' },
      ]),
      { now },
    );
    expect(result).toMatchObject({ score: 100, grade: 'A', rulesChecked: 0 });
  });

  it.each([
    [100, 'A'],
    [90, 'A'],
    [89, 'B'],
    [75, 'B'],
    [74, 'C'],
    [60, 'C'],
    [59, 'D'],
    [45, 'D'],
    [44, 'F'],
    [0, 'F'],
  ])('grades %i as %s', (score, grade) => {
    expect(gradeFor(score)).toBe(grade);
  });
});
