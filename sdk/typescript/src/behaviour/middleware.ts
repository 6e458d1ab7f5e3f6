import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The sidecar's HeaderReporting headers (seed 001): read into its audit ring and stripped before the client. */
export const TOOLS_HEADER = 'x-agentspec-tools-called';
export const GUARDRAILS_HEADER = 'x-agentspec-guardrails-invoked';
export const CONFIRMED_HEADER = 'x-agentspec-user-confirmed';
export const REQUEST_ID_HEADER = 'x-request-id';

interface RequestRecord {
  requestId: string;
  tools: string[];
  guardrails: string[];
  confirmed: boolean;
}

const storage = new AsyncLocalStorage<RequestRecord>();
/** A header value is a comma-separated list: anything else is dropped from a name. */
const clean = (name: string): string => name.replace(/[^A-Za-z0-9._:/@+-]/g, '').slice(0, 200);

function add(list: 'tools' | 'guardrails', name: string): void {
  const record = storage.getStore();
  const value = clean(name);
  if (record && value && !record[list].includes(value)) record[list].push(value);
}

/** Records that the current request called tool `name` (no effect outside a request of the middleware). */
export function recordToolCall(name: string): void {
  add('tools', name);
}

/** Records that the current request invoked guardrail `type` (e.g. `pii-detector`). */
export function recordGuardrail(type: string): void {
  add('guardrails', type);
}

/** Records that the user explicitly confirmed the current request's destructive action. */
export function confirmUser(): void {
  const record = storage.getStore();
  if (record) record.confirmed = true;
}

/** The current request's sidecar `x-request-id` (generated when the agent is called without the sidecar). */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** What the current request recorded so far. */
export function currentBehaviour(): { toolsCalled: string[]; guardrailsInvoked: string[]; userConfirmed: boolean } {
  const record = storage.getStore();
  return {
    toolsCalled: [...(record?.tools ?? [])],
    guardrailsInvoked: [...(record?.guardrails ?? [])],
    userConfirmed: record?.confirmed ?? false,
  };
}

/**
 * HeaderReporting for Node agents (Express, Fastify's raw handlers, node:http): each request gets fresh records,
 * and when its response head is written they go out as `X-AgentSpec-Tools-Called`, `X-AgentSpec-Guardrails-Invoked`
 * and `X-AgentSpec-User-Confirmed`. `app.use(agentSpecMiddleware())`; record with recordToolCall(), recordGuardrail()
 * and confirmUser() from any code the request runs (async calls included).
 */
export function agentSpecMiddleware(): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const incoming = req.headers[REQUEST_ID_HEADER];
    const record: RequestRecord = {
      requestId: (Array.isArray(incoming) ? incoming[0] : incoming) || randomUUID(),
      tools: [],
      guardrails: [],
      confirmed: false,
    };
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      if (!res.headersSent) {
        if (record.tools.length > 0) res.setHeader(TOOLS_HEADER, record.tools.join(','));
        if (record.guardrails.length > 0) res.setHeader(GUARDRAILS_HEADER, record.guardrails.join(','));
        if (record.confirmed) res.setHeader(CONFIRMED_HEADER, 'true');
      }
      return writeHead(...args);
    }) as ServerResponse['writeHead'];
    storage.run(record, next);
  };
}
