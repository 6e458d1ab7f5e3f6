import express, { type RequestHandler, type Router } from 'express';
import { findJsonProblem, formatPath } from '@agentspec/sdk';
import type { AuditRing } from './audit-ring.js';
import type { Source } from './gap.js';
import type { SidecarMetrics } from './metrics.js';
import { opaInputFor, type OpaClient } from './opa.js';

/** Largest EventPush body accepted (413 past it). */
export const MAX_EVENTS_BODY_BYTES = 256 * 1024;
/** Most events one audit entry holds; a push that would pass it is refused with 413 and stores nothing. */
export const MAX_EVENTS_PER_ENTRY = 256;

export interface EventsRouteOptions {
  ring: AuditRing;
  metrics: SidecarMetrics;
  opa?: OpaClient;
  agentName: string;
  source: () => Source;
}

type Refusal = { status: number; error: string; field: string; message: string };

function validate(body: unknown, held: number): Refusal | { requestId: string; events: unknown[]; agentName?: string } {
  const b = body as { requestId?: unknown; agentName?: unknown; events?: unknown } | undefined;
  if (typeof b?.requestId !== 'string' || b.requestId === '') {
    return {
      status: 400,
      error: 'BadRequest',
      field: 'requestId',
      message: 'requestId: expected the x-request-id of a proxied request',
    };
  }
  if (!Array.isArray(b.events)) {
    return { status: 400, error: 'BadRequest', field: 'events', message: 'events: expected an array' };
  }
  const problem = findJsonProblem(b.events);
  if (problem) {
    const field = `events${formatPath(problem.path).replace(/^(?=[^[])/, '.')}`;
    return { status: 400, error: 'BadRequest', field, message: `${field}: ${problem.message}` };
  }
  if (held + b.events.length > MAX_EVENTS_PER_ENTRY) {
    return {
      status: 413,
      error: 'PayloadTooLarge',
      field: 'events',
      message: `events: request ${b.requestId} holds ${held} events; at most ${MAX_EVENTS_PER_ENTRY} are kept per request`,
    };
  }
  return {
    requestId: b.requestId,
    events: b.events,
    ...(typeof b.agentName === 'string' ? { agentName: b.agentName } : {}),
  };
}

/**
 * POST /agentspec/events (EventPush, seed 001): the agent reports what happened during a proxied request. The events
 * join that request's audit entry (bounded per entry and per body) and, with OPA configured, are evaluated with it.
 */
export function eventsRoute(options: EventsRouteOptions): Router {
  const { ring, metrics, opa } = options;
  const router = express.Router();
  const handler: RequestHandler = (req, res, next) => {
    const found = typeof req.body?.requestId === 'string' ? ring.find(req.body.requestId as string) : undefined;
    const parsed = validate(req.body, found?.events?.length ?? 0);
    if ('status' in parsed) {
      const { status, ...rest } = parsed;
      res.status(status).json({ ...rest, source: options.source() });
      return;
    }
    const { requestId, events } = parsed;
    const entry = found;
    if (!entry) {
      // The agent may push before the proxy recorded the response: no retry needed.
      res.status(202).json({ requestId, found: false, source: options.source() });
      return;
    }
    entry.events = [...(entry.events ?? []), ...events];
    if (!opa) {
      res.status(200).json({ requestId, found: true, opaViolations: [], source: options.source() });
      return;
    }
    opa
      .evaluate(opaInputFor(parsed.agentName ?? options.agentName, entry, events))
      .then((result) => {
        metrics.opaEvaluations.inc({
          result: result === undefined ? 'unreachable' : result.length ? 'violations' : 'allowed',
        });
        const opaViolations = result ?? [];
        if (opaViolations.length)
          entry.opaViolations = [...new Set([...(entry.opaViolations ?? []), ...opaViolations])].sort();
        res.status(200).json({ requestId, found: true, opaViolations, source: options.source() });
      })
      .catch(next);
  };
  router.post(['/agentspec/events', '/events'], express.json({ limit: MAX_EVENTS_BODY_BYTES }), handler);
  return router;
}
