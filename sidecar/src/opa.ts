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
