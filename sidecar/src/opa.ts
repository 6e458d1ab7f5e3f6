import type { AuditEntry } from './audit-ring.js';

/** What OPA is asked about one request. */
export interface OpaInput {
  agentName: string;
  requestId: string;
  guardrailsInvoked: string[];
  toolsCalled: string[];
  userConfirmed: boolean;
  /** EventPush only: the events the agent reported. */
  events?: unknown[];
}

interface PushedEvent {
  type?: string;
  guardrailType?: string;
  invoked?: boolean;
  name?: string;
  confirmed?: boolean;
}

/**
 * What OPA is asked about one proxied request: what the agent reported in its response headers (recorded on the audit
 * entry) joined with the events it pushed for the request, if any.
 */
export function opaInputFor(
  agentName: string,
  entry: Pick<AuditEntry, 'requestId' | 'guardrailsInvoked' | 'toolsCalled' | 'userConfirmed'>,
  events?: unknown[],
): OpaInput {
  const typed = (events ?? []) as (PushedEvent | null)[];
  const guardrails = new Set([
    ...(entry.guardrailsInvoked ?? []),
    ...typed
      .filter((e) => e?.type === 'guardrail' && e.invoked !== false && e.guardrailType)
      .map((e) => String(e?.guardrailType)),
  ]);
  const tools = new Set([
    ...(entry.toolsCalled ?? []),
    ...typed.filter((e) => e?.type === 'tool' && e.name).map((e) => String(e?.name)),
  ]);
  return {
    agentName,
    requestId: entry.requestId,
    guardrailsInvoked: [...guardrails],
    toolsCalled: [...tools],
    userConfirmed: entry.userConfirmed ?? typed.some((e) => e?.type === 'confirmation' && e.confirmed === true),
    ...(events ? { events } : {}),
  };
}

/** Our policy rule: `data.agentspec.deny`, a set (or array) of violation names, over the camelCase input above. */
export const OPA_DENY_PATH = '/v1/data/agentspec/deny';

/**
 * Which policy layout OPA is asked with: ours (`data.agentspec.deny`, camelCase input), upstream AgentSpec's
 * (`data.agentspec.agent.<name>.deny` with `-` in the name as `_`, snake_case input, as its `generate-policy`
 * writes), or `auto`: whichever the loaded policies define.
 */
export const OPA_POLICY_LAYOUTS = ['auto', 'agentspec', 'upstream'] as const;
export type OpaPolicyLayout = (typeof OPA_POLICY_LAYOUTS)[number];

/** Facts about the agent upstream's input carries beside the request's. */
export interface OpaFacts {
  modelId: string;
  guardrailsDeclared: string[];
  toolsRegistered: string[];
  /** The agent serves the SDK's HealthReport (the gap source is agent-sdk). */
  sdkAvailable: boolean;
  hasHealthEndpoint: boolean;
  /** Every check of the agent's last report passes. */
  allChecksPassing: boolean;
}

/** Upstream's rule path for an agent: Rego package names cannot hold `-`. */
export function upstreamDenyPath(agentName: string): string {
  return `/v1/data/agentspec/agent/${agentName.replace(/-/g, '_')}/deny`;
}

/** The snake_case input upstream's policies read (upstream sidecar's OPA input, request fields filled in). */
export function upstreamOpaInput(input: OpaInput, facts: OpaFacts): Record<string, unknown> {
  return {
    agent_name: input.agentName,
    request_id: input.requestId,
    request_type: 'llm_call',
    model_id: facts.modelId,
    guardrails_declared: facts.guardrailsDeclared,
    guardrails_invoked: input.guardrailsInvoked,
    tools_registered: facts.toolsRegistered,
    tools_called: input.toolsCalled,
    user_confirmed: input.userConfirmed,
    sdk_available: facts.sdkAvailable,
    has_health_endpoint: facts.hasHealthEndpoint,
    has_capabilities_endpoint: false,
    all_checks_passing: facts.allChecksPassing,
    ...(input.events ? { events: input.events } : {}),
  };
}

type Answer = { defined: true; violations: string[] } | { defined: false } | undefined;

/** One query: the rule's violations, `defined: false` when no loaded policy defines it, undefined on failure. */
async function query(url: string, input: unknown, timeoutMs: number): Promise<Answer> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const body = (await response.json()) as { result?: unknown };
    if (body.result === undefined) return { defined: false };
    if (!Array.isArray(body.result)) return undefined;
    return { defined: true, violations: body.result.map(String).sort() };
  } catch {
    return undefined;
  }
}

/**
 * Asks OPA for the violations of one request, in the configured layout; with `auto`, the layout whose rule the loaded
 * policies define (upstream's first for this agent, then ours), remembered until a query finds it undefined.
 * Resolves undefined when OPA is unreachable, slow or answers nonsense: the sidecar then fails open.
 */
export class OpaClient {
  private detected: 'agentspec' | 'upstream' | undefined;

  constructor(
    private readonly options: {
      url: string;
      layout: OpaPolicyLayout;
      agentName: string;
      facts: () => OpaFacts;
      timeoutMs?: number;
    },
  ) {}

  /** The layout queried last (for diagnostics), undefined before the first answer in `auto`. */
  get layout(): 'agentspec' | 'upstream' | undefined {
    return this.options.layout === 'auto' ? this.detected : this.options.layout;
  }

  private ask(layout: 'agentspec' | 'upstream', input: OpaInput): Promise<Answer> {
    const { url, timeoutMs = 2_000 } = this.options;
    return layout === 'upstream'
      ? query(
          `${url}${upstreamDenyPath(this.options.agentName)}`,
          upstreamOpaInput(input, this.options.facts()),
          timeoutMs,
        )
      : query(`${url}${OPA_DENY_PATH}`, input, timeoutMs);
  }

  async evaluate(input: OpaInput): Promise<string[] | undefined> {
    const { layout } = this.options;
    if (layout !== 'auto') {
      const answer = await this.ask(layout, input);
      return answer && (answer.defined ? answer.violations : []); // an undefined rule denies nothing
    }
    const order: ('agentspec' | 'upstream')[] =
      this.detected === 'agentspec' ? ['agentspec', 'upstream'] : ['upstream', 'agentspec'];
    for (const candidate of order) {
      const answer = await this.ask(candidate, input);
      if (answer === undefined) return undefined;
      if (answer.defined) {
        this.detected = candidate;
        return answer.violations;
      }
    }
    this.detected = undefined;
    return [];
  }
}

/** Asks OPA for the violations of one request in our layout (kept for callers of the package's API). */
export async function evaluateOpa(opaUrl: string, input: OpaInput, timeoutMs = 2_000): Promise<string[] | undefined> {
  const answer = await query(`${opaUrl}${OPA_DENY_PATH}`, input, timeoutMs);
  return answer && (answer.defined ? answer.violations : []);
}
