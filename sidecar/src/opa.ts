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

/** The policy rule queried: `data.agentspec.deny`, a set (or array) of violation names. */
export const OPA_DENY_PATH = '/v1/data/agentspec/deny';

/**
 * Asks OPA for the violations of one request. Resolves undefined when OPA is unreachable, slow or answers
 * nonsense: the sidecar then fails open.
 */
export async function evaluateOpa(opaUrl: string, input: OpaInput, timeoutMs = 2_000): Promise<string[] | undefined> {
  try {
    const response = await fetch(`${opaUrl}${OPA_DENY_PATH}`, {
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
    if (body.result === undefined) return []; // the rule is not defined: nothing denied
    if (!Array.isArray(body.result)) return undefined;
    return body.result.map(String).sort();
  } catch {
    return undefined;
  }
}
