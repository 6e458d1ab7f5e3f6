import { Router } from 'express';
import { ApiError } from '../api-error.js';
import type { AppContext } from '../app-context.js';
import { isLabel, strictQuery } from '../client-errors.js';
import { EVENT_TYPES, eventJson, type StoredEvent, type Subscriber } from '../events.js';

/** A subscriber whose unsent output passes this is too slow: it is dropped rather than buffered without bound. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

function parseLastEventId(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^[0-9]{1,15}$/.test(raw)) {
    throw new ApiError(
      400,
      'InvalidHeader',
      'last-event-id: expected the id of an event of this stream',
      'last-event-id',
    );
  }
  return Number(raw);
}

function parseTypes(raw: string | undefined): Set<string> | undefined {
  if (raw === undefined) return undefined;
  const types = raw.split(',');
  const unknown = types.find((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown !== undefined) {
    throw new ApiError(400, 'InvalidQuery', `types: "${unknown}" is not one of ${EVENT_TYPES.join(', ')}`, 'types');
  }
  return new Set(types);
}

/**
 * GET /api/v1/events: the fleet's events as Server-Sent Events (admin key), optionally of one namespace and some
 * types. Each has the id of the event table; a client that reconnects with Last-Event-ID gets what it missed first
 * (or a `reset` event when that is older than the table keeps). Idle streams get a keep-alive comment.
 */
export function eventRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/api/v1/events', ctx.adminAuth, async (req, res) => {
    const query = strictQuery(req, ['namespace', 'types']);
    if (query.namespace !== undefined && !isLabel(query.namespace)) {
      throw new ApiError(400, 'InvalidQuery', 'namespace: must be an RFC 1123 label', 'namespace');
    }
    const types = parseTypes(query.types);
    const after = parseLastEventId(req.header('last-event-id'));
    if (ctx.hub.subscribers >= ctx.config.eventsMaxSubscribers) {
      throw new ApiError(
        503,
        'TooManySubscribers',
        `this replica serves at most ${ctx.config.eventsMaxSubscribers} event streams; retry later`,
        undefined,
        { 'retry-after': '10' },
      );
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    let open = true;
    const write = (text: string): boolean => {
      if (!open) return false;
      res.write(text);
      return res.writableLength <= MAX_BUFFERED_BYTES;
    };
    const subscriber: Subscriber = {
      lastId: 0,
      wants: (event: StoredEvent) =>
        (query.namespace === undefined || event.namespace === query.namespace) && (!types || types.has(event.type)),
      send: (event) => write(`id: ${event.id}\nevent: ${event.type}\ndata: ${eventJson(event)}\n\n`),
      reset: (oldestId) => void write(`event: reset\ndata: ${JSON.stringify({ oldestId })}\n\n`),
      drop: (reason) => {
        if (!open) return;
        ctx.logger.info({ reason }, 'event stream dropped');
        res.end(`: ${reason}\n\n`);
        close();
      },
    };
    const keepAlive = setInterval(() => {
      if (!write(': keep-alive\n\n')) subscriber.drop('too slow: the client did not read its events');
    }, ctx.config.eventsKeepAliveSeconds * 1000);
    const close = (): void => {
      open = false;
      clearInterval(keepAlive);
      ctx.hub.unsubscribe(subscriber);
    };
    res.on('close', close);
    write(': connected\n\n');
    try {
      await ctx.hub.subscribe(subscriber, after);
    } catch (err) {
      ctx.logger.warn({ err: (err as Error).message }, 'event stream could not catch up');
      subscriber.drop('the event table cannot be read now; reconnect with Last-Event-ID');
    }
    if (!open) ctx.hub.unsubscribe(subscriber);
  });
  return router;
}
