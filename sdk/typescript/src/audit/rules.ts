import type { CompliancePack, Severity } from './types.js';
import type { AgentManifest } from '../manifest/load.js';

export type { Severity } from './types.js';

export const SEVERITY_WEIGHT: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1 };

export interface AuditRule {
  id: string;
  pack: CompliancePack;
  severity: Severity;
  title: string;
  /** True when the manifest complies. */
  passes: (m: AgentManifest) => boolean;
  /** Why it fails, as shown to the user. */
  message: string;
  remediation: string;
}

const isLatest = (id: string | undefined): boolean => id === 'latest' || (id?.endsWith(':latest') ?? false);
const noLongTermOrScrubbed = (m: AgentManifest): boolean =>
  !m.spec.memory?.longTerm || (m.spec.memory.hygiene?.piiScrubFields?.length ?? 0) > 0;
const ciGate = (m: AgentManifest): boolean => m.spec.evaluation?.ciGate === true;

/** The upstream compliance rules, so the same file gets the same score here and upstream. */
export const AUDIT_RULES: readonly AuditRule[] = [
  // model-resilience
  {
    id: 'MODEL-01',
    pack: 'model-resilience',
    severity: 'high',
    title: 'Fallback model configured',
    passes: (m) => m.spec.model.fallback !== undefined,
    message: 'No fallback model: an outage or rate limit at the provider takes the agent down.',
    remediation:
      'Add spec.model.fallback with a second provider/model and triggerOn: [rate_limit, timeout, error_5xx].',
  },
  {
    id: 'MODEL-02',
    pack: 'model-resilience',
    severity: 'medium',
    title: 'Model version pinned',
    passes: (m) => !isLatest(m.spec.model.id),
    message: 'The model id is "latest": behaviour changes whenever the provider ships a new model.',
    remediation: 'Pin spec.model.id to a dated or versioned model id.',
  },
  {
    id: 'MODEL-03',
    pack: 'model-resilience',
    severity: 'medium',
    title: 'Monthly cost limit set',
    passes: (m) => m.spec.model.costControls?.maxMonthlyUSD !== undefined,
    message: 'No monthly spend limit.',
    remediation: 'Set spec.model.costControls.maxMonthlyUSD (and alertAtUSD).',
  },
  {
    id: 'MODEL-04',
    pack: 'model-resilience',
    severity: 'low',
    title: 'Fallback retries bounded',
    passes: (m) => !m.spec.model.fallback || m.spec.model.fallback.maxRetries !== undefined,
    message: 'The fallback model has no maxRetries.',
    remediation: 'Set spec.model.fallback.maxRetries (0 to 10).',
  },
  // owasp-llm-top10
  {
    id: 'SEC-LLM-01',
    pack: 'owasp-llm-top10',
    severity: 'high',
    title: 'Prompt injection defence (LLM01)',
    passes: (m) =>
      (m.spec.guardrails?.input ?? []).some((g) => g.type === 'prompt-injection' || g.type === 'topic-filter'),
    message: 'No input guardrail against prompt injection.',
    remediation: 'Add a spec.guardrails.input item of type prompt-injection (or topic-filter).',
  },
  {
    id: 'SEC-LLM-02',
    pack: 'owasp-llm-top10',
    severity: 'high',
    title: 'Output handling (LLM02)',
    passes: (m) => (m.spec.guardrails?.output?.length ?? 0) > 0,
    message: 'No output guardrail: responses reach users unchecked.',
    remediation: 'Add spec.guardrails.output (toxicity-filter, pii-detector or hallucination-detector).',
  },
  {
    id: 'SEC-LLM-03',
    pack: 'owasp-llm-top10',
    severity: 'medium',
    title: 'System prompt kept out of the manifest (LLM07)',
    passes: (m) => m.spec.prompts.system.startsWith('$file:'),
    message: 'The system prompt is inline in the manifest.',
    remediation: 'Move it to a file and reference it: spec.prompts.system: $file:prompts/system.md.',
  },
  {
    id: 'SEC-LLM-04',
    pack: 'owasp-llm-top10',
    severity: 'medium',
    title: 'Unbounded consumption (LLM10)',
    passes: (m) =>
      m.spec.api?.rateLimit?.requestsPerMinute !== undefined || m.spec.model.costControls?.maxMonthlyUSD !== undefined,
    message: 'Neither a rate limit nor a spend limit bounds consumption.',
    remediation: 'Set spec.api.rateLimit.requestsPerMinute or spec.model.costControls.maxMonthlyUSD.',
  },
  {
    id: 'SEC-LLM-05',
    pack: 'owasp-llm-top10',
    severity: 'medium',
    title: 'Supply chain: model identified (LLM03)',
    passes: (m) => Boolean(m.spec.model.provider) && Boolean(m.spec.model.id) && m.spec.model.id !== 'latest',
    message: 'The model is not fully identified by provider and a pinned id.',
    remediation: 'Set spec.model.provider and a pinned spec.model.id.',
  },
  {
    id: 'SEC-LLM-06',
    pack: 'owasp-llm-top10',
    severity: 'critical',
    title: 'Sensitive information disclosure (LLM02)',
    passes: noLongTermOrScrubbed,
    message: 'Long-term memory stores conversations without PII scrubbing.',
    remediation: 'Set spec.memory.hygiene.piiScrubFields (e.g. [email, phone, ssn]).',
  },
  {
    id: 'SEC-LLM-07',
    pack: 'owasp-llm-top10',
    severity: 'medium',
    title: 'Tools described by annotations (LLM06)',
    passes: (m) => (m.spec.tools ?? []).every((t) => t.annotations !== undefined),
    message: 'Some tools have no annotations.',
    remediation: 'Add annotations (readOnlyHint, destructiveHint, idempotentHint) to every tool.',
  },
  {
    id: 'SEC-LLM-08',
    pack: 'owasp-llm-top10',
    severity: 'high',
    title: 'Excessive agency: destructive tools marked (LLM06)',
    passes: (m) => (m.spec.tools ?? []).every((t) => t.annotations?.destructiveHint !== undefined),
    message: 'Some tools do not say whether they are destructive.',
    remediation: 'Set annotations.destructiveHint on every tool.',
  },
  {
    id: 'SEC-LLM-09',
    pack: 'owasp-llm-top10',
    severity: 'medium',
    title: 'Misinformation: evaluated in CI (LLM09)',
    passes: (m) => m.spec.evaluation?.framework !== undefined && ciGate(m),
    message: 'The agent is not evaluated with a CI gate.',
    remediation: 'Set spec.evaluation.framework and spec.evaluation.ciGate: true.',
  },
  {
    id: 'SEC-LLM-10',
    pack: 'owasp-llm-top10',
    severity: 'high',
    title: 'Model key from a secret store',
    passes: (m) => m.spec.model.apiKey?.startsWith('$secret:') ?? false,
    message: 'The model API key does not come from a secret ($secret:).',
    remediation: 'Use spec.model.apiKey: $secret:NAME.',
  },
  // memory-hygiene
  {
    id: 'MEM-01',
    pack: 'memory-hygiene',
    severity: 'critical',
    title: 'PII scrubbed from long-term memory',
    passes: noLongTermOrScrubbed,
    message: 'Long-term memory has no piiScrubFields.',
    remediation: 'Set spec.memory.hygiene.piiScrubFields.',
  },
  {
    id: 'MEM-02',
    pack: 'memory-hygiene',
    severity: 'high',
    title: 'Memory expires',
    passes: (m) =>
      (!m.spec.memory?.shortTerm || m.spec.memory.shortTerm.ttlSeconds !== undefined) &&
      (!m.spec.memory?.longTerm || m.spec.memory.longTerm.ttlDays !== undefined),
    message: 'Memory is kept forever (short-term without ttlSeconds or long-term without ttlDays).',
    remediation: 'Set spec.memory.shortTerm.ttlSeconds and spec.memory.longTerm.ttlDays.',
  },
  {
    id: 'MEM-03',
    pack: 'memory-hygiene',
    severity: 'medium',
    title: 'Long-term memory audited',
    passes: (m) => !m.spec.memory?.longTerm || m.spec.memory.hygiene?.auditLog === true,
    message: 'Reads and writes of long-term memory are not audited.',
    remediation: 'Set spec.memory.hygiene.auditLog: true.',
  },
  {
    id: 'MEM-04',
    pack: 'memory-hygiene',
    severity: 'medium',
    title: 'Vector memory isolated',
    passes: (m) => !m.spec.memory?.vector || m.spec.memory.vector.namespace !== undefined,
    message: 'Vector memory has no namespace: agents sharing the store see each other’s data.',
    remediation: 'Set spec.memory.vector.namespace.',
  },
  {
    id: 'MEM-05',
    pack: 'memory-hygiene',
    severity: 'low',
    title: 'Short-term memory bounded',
    passes: (m) => !m.spec.memory?.shortTerm || m.spec.memory.shortTerm.maxTokens !== undefined,
    message: 'Short-term memory has no maxTokens.',
    remediation: 'Set spec.memory.shortTerm.maxTokens.',
  },
  // evaluation-coverage
  {
    id: 'EVAL-01',
    pack: 'evaluation-coverage',
    severity: 'medium',
    title: 'Evaluation dataset',
    passes: (m) => (m.spec.evaluation?.datasets?.length ?? 0) > 0,
    message: 'No evaluation dataset.',
    remediation: 'Add spec.evaluation.datasets.',
  },
  {
    id: 'EVAL-02',
    pack: 'evaluation-coverage',
    severity: 'medium',
    title: 'Evaluation gates CI',
    passes: ciGate,
    message: 'Evaluation does not gate CI.',
    remediation: 'Set spec.evaluation.ciGate: true.',
  },
  {
    id: 'EVAL-03',
    pack: 'evaluation-coverage',
    severity: 'medium',
    title: 'Hallucination measured',
    passes: (m) =>
      (m.spec.evaluation?.metrics ?? []).includes('hallucination') &&
      m.spec.evaluation?.thresholds?.hallucination !== undefined,
    message: 'Hallucination is not measured against a threshold.',
    remediation: 'Add hallucination to spec.evaluation.metrics and set spec.evaluation.thresholds.hallucination.',
  },
  // observability
  {
    id: 'OBS-01',
    pack: 'observability',
    severity: 'medium',
    title: 'Tracing',
    passes: (m) => m.spec.observability?.tracing?.backend !== undefined,
    message: 'No tracing backend.',
    remediation: 'Set spec.observability.tracing.backend.',
  },
  {
    id: 'OBS-02',
    pack: 'observability',
    severity: 'low',
    title: 'Structured logs',
    passes: (m) => m.spec.observability?.logging?.structured !== false,
    message: 'Logs are not structured.',
    remediation: 'Set spec.observability.logging.structured: true.',
  },
  {
    id: 'OBS-03',
    pack: 'observability',
    severity: 'medium',
    title: 'Secrets redacted from logs',
    passes: (m) => (m.spec.observability?.logging?.redactFields?.length ?? 0) > 0,
    message: 'No fields are redacted from logs.',
    remediation: 'Set spec.observability.logging.redactFields (e.g. [apiKey, password, token]).',
  },
  // metadata-quality
  {
    id: 'META-01',
    pack: 'metadata-quality',
    severity: 'low',
    title: 'Description',
    passes: (m) => m.metadata.description.trim().length > 0,
    message: 'The agent has no description.',
    remediation: 'Describe what the agent does.',
  },
  {
    id: 'META-02',
    pack: 'metadata-quality',
    severity: 'medium',
    title: 'Temperature within a sane range',
    passes: (m) => m.spec.model.parameters?.temperature === undefined || m.spec.model.parameters.temperature <= 1.5,
    message: 'The temperature is above 1.5: answers will be erratic.',
    remediation: 'Lower spec.model.parameters.temperature to 1.5 or less.',
  },
];
