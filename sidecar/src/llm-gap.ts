import { createHash } from 'node:crypto';
import Anthropic, { APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk';
import { redact, type AgentManifest, type HealthReport } from '@agentspec/sdk';
import type { GapAnalysis, GapIssue } from './gap.js';

export interface LlmGapOptions {
  apiKey: string;
  /** The Messages API's base URL (a gateway or a proxy); default Anthropic's. */
  baseUrl?: string;
  model: string;
  /** A manifest's analysis is asked again at most this often. */
  refreshMs: number;
  timeoutMs: number;
}

/** The most of each part the prompt carries: the manifest, the live report and the static issues. */
const PART_LIMIT = 8 * 1024;
const bounded = (value: unknown): string => {
  const text = JSON.stringify(value);
  return text.length <= PART_LIMIT ? text : `${text.slice(0, PART_LIMIT)}… [truncated]`;
};

const SEVERITIES = new Set(['critical', 'high', 'medium', 'low']);

/** The model's answer, when it is the JSON the prompt asks for. */
function parseAnswer(text: string): Pick<Extract<GapAnalysis, { source: 'llm' }>, 'summary' | 'recommendations'> {
  const json = /\{[\s\S]*\}/.exec(text)?.[0];
  if (!json) throw new Error('the model did not answer with the JSON asked for');
  const parsed = JSON.parse(json) as { summary?: unknown; recommendations?: unknown };
  if (typeof parsed.summary !== 'string' || !Array.isArray(parsed.recommendations)) {
    throw new Error('the model did not answer with the JSON asked for');
  }
  const recommendations = parsed.recommendations
    .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null)
    .map((r) => ({
      severity: SEVERITIES.has(String(r['severity'])) ? String(r['severity']) : 'low',
      property: String(r['property'] ?? '').slice(0, 200),
      recommendation: String(r['recommendation'] ?? '').slice(0, 2000),
    }))
    .filter((r) => r.recommendation !== '')
    .slice(0, 20);
  return { summary: parsed.summary.slice(0, 4000), recommendations };
}

/**
 * Seed 001's LLM gap analysis (ANTHROPIC_API_KEY): the official Anthropic client asks the model to read the manifest,
 * the agent's live report and the static gap issues. One answer per manifest is kept and asked again at most every
 * `refreshMs`; while it is being asked, and when asking fails, the gap report says why it is static. The key is never
 * in an answer or a log.
 */
export class LlmGapAnalyzer {
  private readonly client: Anthropic;
  private cached: { hash: string; at: number; analysis: Extract<GapAnalysis, { source: 'llm' }> } | undefined;
  private failed: { hash: string; at: number; reason: string } | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: LlmGapOptions) {
    this.client = new Anthropic({
      apiKey: options.apiKey,
      ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
      timeout: options.timeoutMs,
      maxRetries: 1,
    });
  }

  private reasonOf(err: unknown): string {
    let reason: string;
    if (err instanceof APIConnectionTimeoutError) reason = `no answer within ${this.options.timeoutMs / 1000} s`;
    else if (err instanceof APIError && err.status === 401) reason = 'the Messages API refused ANTHROPIC_API_KEY (401)';
    else if (err instanceof APIError && err.status !== undefined) reason = `the Messages API answered ${err.status}`;
    else reason = err instanceof Error ? err.message : String(err);
    return redact(reason, [this.options.apiKey]);
  }

  private async ask(
    hash: string,
    manifest: AgentManifest,
    live: HealthReport | undefined,
    issues: GapIssue[],
  ): Promise<void> {
    const prompt = [
      'You review an AI agent against its AgentSpec manifest (agent.yaml) and its live health report.',
      'Answer with JSON only: {"summary": "<two or three sentences>", "recommendations": [{"severity":',
      '"critical|high|medium|low", "property": "<manifest field or area>", "recommendation": "<what to change>"}]}.',
      'At most 10 recommendations, most severe first; do not repeat the static issues word for word.',
      `Manifest: ${bounded(manifest)}`,
      `Live report: ${live ? bounded({ status: live.status, summary: live.summary, failing: live.checks.filter((c) => c.status !== 'pass') }) : 'none (the agent does not serve GET /agentspec/health)'}`,
      `Static issues: ${bounded(issues)}`,
    ].join('\n');
    try {
      const message = await this.client.messages.create({
        model: this.options.model,
        max_tokens: 1024,
        messages: [{ role: 'user', content: prompt }],
      });
      const text = message.content
        .filter((block): block is Extract<typeof block, { type: 'text' }> => block.type === 'text')
        .map((block) => block.text)
        .join('');
      const answer = parseAnswer(text);
      this.cached = {
        hash,
        at: Date.now(),
        analysis: { source: 'llm', model: message.model, generatedAt: new Date().toISOString(), ...answer },
      };
      this.failed = undefined;
    } catch (err) {
      this.failed = { hash, at: Date.now(), reason: this.reasonOf(err) };
    }
  }

  /**
   * The analysis for this manifest: the kept one while it is fresh; otherwise asked now (waiting for the answer up to
   * the timeout). A failure is kept for the same interval as an answer, so a failing API is not asked on every request.
   */
  async analysis(manifest: AgentManifest, live: HealthReport | undefined, issues: GapIssue[]): Promise<GapAnalysis> {
    const hash = createHash('sha256').update(JSON.stringify(manifest)).digest('hex');
    const now = Date.now();
    const fresh = (at: number): boolean => now - at < this.options.refreshMs;
    if (this.cached?.hash === hash && fresh(this.cached.at)) return this.cached.analysis;
    if (this.failed?.hash === hash && fresh(this.failed.at)) {
      return { source: 'static', reason: `LLM gap analysis failed: ${this.failed.reason}` };
    }
    this.inFlight ??= this.ask(hash, manifest, live, issues).finally(() => {
      this.inFlight = undefined;
    });
    await this.inFlight;
    if (this.cached?.hash === hash) return this.cached.analysis;
    return { source: 'static', reason: `LLM gap analysis failed: ${this.failed?.reason ?? 'no answer'}` };
  }
}
