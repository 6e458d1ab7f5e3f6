import { z } from 'zod';
import { heartbeatBodySchema } from './heartbeats.js';
import { registerBodySchema } from './routes/register.js';
import { connectionStatsBodySchema, getConnectionBodySchema, TRANSPORTS } from './routes/connections.js';
import { EVENT_TYPES } from './events.js';
import { CONNECTION_STATUSES } from './liveness.js';

type Schema = Record<string, unknown>;
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);
const nullable = (type: string): Schema => ({ type: [type, 'null'] });

const agentSummary: Schema = {
  type: 'object',
  required: [
    'agentId',
    'namespace',
    'name',
    'runtime',
    'phase',
    'score',
    'grade',
    'lastSeen',
    'instances',
    'instancesTotal',
    'source',
    'transport',
    'connectionStatus',
    'failingChecks',
    'violations',
  ],
  properties: {
    agentId: { type: 'string', format: 'uuid' },
    namespace: { type: 'string' },
    name: { type: 'string' },
    runtime: { type: 'string' },
    phase: {
      type: 'string',
      enum: ['Healthy', 'Degraded', 'Unhealthy', 'Unknown', 'Offline'],
      description: 'The worst phase of its live instances; Offline when none is live.',
    },
    score: {
      ...nullable('integer'),
      description: 'The lowest score of its live instances; with none live, the last known score.',
    },
    grade: { ...nullable('string'), enum: ['A', 'B', 'C', 'D', 'F', null] },
    lastSeen: { ...nullable('string'), format: 'date-time' },
    instances: { type: 'integer', description: 'Live instances (not offline).' },
    instancesTotal: { type: 'integer', description: 'Registered instances, offline ones included.' },
    failingChecks: {
      type: 'array',
      items: ref('Problem'),
      description: 'The failing (then warning) checks of the live instance with the worst phase, at most 5.',
    },
    violations: {
      type: 'array',
      items: ref('Problem'),
      description: 'The violations of the live instance with the lowest score, most severe first, at most 5.',
    },
    source: {
      ...nullable('string'),
      description: 'Where the lowest score came from (agent-sdk or manifest-static), as its gap report says.',
    },
    transport: {
      ...nullable('string'),
      enum: [...TRANSPORTS, null],
      description: 'How its most recently seen instance reaches the control plane; null without instances.',
    },
    connectionStatus: {
      ...nullable('string'),
      enum: [...CONNECTION_STATUSES, null],
      description: 'The connection status of its most recently seen instance; null without instances.',
    },
  },
};

const label = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 };
const namespaceAndName = [
  { name: 'namespace', in: 'path', required: true, schema: label },
  { name: 'name', in: 'path', required: true, schema: label },
];
const admin = [{ adminKey: [] }];

function documentOperation(kind: string, byName: boolean): Schema {
  return {
    summary: byName
      ? `Latest ${kind} of the agent with this name (unique across namespaces)`
      : `Latest ${kind} of an agent`,
    security: admin,
    parameters: byName ? [namespaceAndName[1]] : namespaceAndName,
    responses: {
      200: byName
        ? json(
            { type: 'object', additionalProperties: true },
            {
              health: 'the health report as the agent sent it (upstream AgentSpec shape)',
              gap: 'the gap report with receivedAt (upstream AgentSpec shape)',
              proof: '{records, receivedAt}: the proof records, empty when none was sent (upstream AgentSpec shape)',
            }[kind]!,
          )
        : json(ref('Document'), `the ${kind} document with the instance that reported it`),
      404: error('not registered, or not reported yet'),
      ...(byName ? { 409: error('the name exists in more than one namespace') } : {}),
    },
  };
}

type Operation = {
  security?: Record<string, unknown[]>[];
  requestBody?: unknown;
  parameters?: unknown[];
  responses: Record<string, unknown>;
};

/** The client errors every operation can answer, added where the operation does not describe them itself. */
function withClientErrors(paths: Record<string, Record<string, Operation>>): Record<string, Record<string, Operation>> {
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      const add = (status: number, description: string): void => {
        operation.responses[status] ??= error(description);
      };
      if (operation.parameters?.length || operation.requestBody) {
        add(400, 'invalid path, query or body; `field` names it');
      }
      if (operation.security?.some((s) => 'adminKey' in s)) {
        add(403, 'missing or wrong admin key');
        add(503, 'no admin key configured, or the database is unavailable');
      }
      if (operation.requestBody) {
        add(413, 'body over 64 KiB');
        add(415, 'a charset other than UTF-8, or an unsupported Content-Encoding');
      }
      add(405, 'another method is served on this path');
    }
  }
  return paths;
}

const typesAlternation = EVENT_TYPES.map((t) => t.replace('.', '\\.')).join('|');

/** The OpenAPI 3.1 description of every endpoint, served at /api/v1/openapi.json. */
export function openApiDocument(): Schema {
  const toSchema = (s: z.ZodType): Schema => {
    const { $schema: _s, ...rest } = z.toJSONSchema(s, {
      target: 'draft-2020-12',
      io: 'input',
      unrepresentable: 'any',
    }) as Schema;
    return rest;
  };
  const documentPaths = Object.fromEntries(
    ['health', 'gap', 'proof'].flatMap((kind) => [
      [`/api/v1/namespaces/{namespace}/agents/{name}/${kind}`, { get: documentOperation(kind, false) }],
      [`/api/v1/agents/{name}/${kind}`, { get: documentOperation(kind, true) }],
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'AgentSpec control plane',
      version: '1.0.0',
      description: 'Registration, heartbeats and the fleet read API.',
    },
    components: {
      securitySchemes: {
        adminKey: { type: 'apiKey', in: 'header', name: 'X-Admin-Key' },
        instanceToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
        },
        RegisterRequest: toSchema(registerBodySchema),
        RegisterResponse: {
          type: 'object',
          required: ['agentId', 'instanceId', 'apiKey', 'expiresAt', 'heartbeatIntervalSeconds'],
          properties: {
            agentId: { type: 'string', format: 'uuid' },
            instanceId: { type: 'string' },
            apiKey: { type: 'string', description: 'HS256 JWT for this instance’s heartbeats' },
            expiresAt: { type: 'string', format: 'date-time' },
            heartbeatIntervalSeconds: { type: 'integer' },
            connectUrl: {
              type: 'string',
              description:
                'ws:// or wss:// URL of GET /api/v1/connect: connected mode over a WebSocket (seed 003); connected instances only',
            },
            deploymentMode: { enum: ['connected', 'hosted'] },
            publicUrl: { type: 'string', description: 'hosted instances: the URL the control plane calls' },
          },
        },
        HeartbeatRequest: toSchema(heartbeatBodySchema),
        ProbeResponse: {
          type: 'object',
          required: ['namespace', 'name', 'instances'],
          properties: {
            namespace: { type: 'string' },
            name: { type: 'string' },
            instances: {
              type: 'array',
              items: {
                type: 'object',
                required: ['instanceId', 'status'],
                properties: {
                  instanceId: { type: 'string' },
                  status: { enum: ['ok', 'offline', 'timeout', 'unreachable'] },
                  report: {},
                  latencyMs: { type: 'integer' },
                  error: { type: 'string' },
                },
              },
            },
          },
        },
        Problem: {
          type: 'object',
          required: ['id', 'message'],
          properties: {
            id: { type: 'string' },
            status: { type: 'string', description: 'fail or warn (checks)' },
            severity: { type: 'string' },
            message: { type: 'string' },
            remediation: { type: 'string' },
          },
        },
        UpstreamAgent: {
          type: 'object',
          required: ['agentId', 'agentName', 'runtime', 'phase', 'grade', 'score', 'lastSeen'],
          properties: {
            agentId: { type: 'string' },
            agentName: { type: 'string' },
            namespace: { type: 'string' },
            runtime: { type: 'string' },
            phase: { type: 'string' },
            grade: nullable('string'),
            score: nullable('integer'),
            lastSeen: { ...nullable('string'), format: 'date-time' },
          },
        },
        GetConnectionRequest: toSchema(getConnectionBodySchema),
        ConnectionStatsRequest: toSchema(connectionStatsBodySchema),
        Connection: {
          type: 'object',
          required: ['instance_id', 'agent_type', 'namespace', 'deployment_mode', 'transport', 'connection_status'],
          properties: {
            instance_id: { type: 'string' },
            agent_id: { type: 'string', format: 'uuid' },
            agent_type: { type: 'string', description: 'The agent name.' },
            namespace: { type: 'string' },
            deployment_mode: { type: 'string', enum: ['connected', 'hosted'] },
            transport: { type: 'string', enum: ['callback', 'ws'] },
            connection_status: { type: 'string', enum: [...CONNECTION_STATUSES] },
            last_seen: { ...nullable('string'), format: 'date-time' },
            last_heartbeat: { ...nullable('string'), format: 'date-time' },
            registered_at: { type: 'string', format: 'date-time' },
            heartbeat_interval_seconds: { type: 'integer' },
            phase: { type: 'string' },
            score: nullable('integer'),
            grade: nullable('string'),
          },
        },
        ConnectionStats: {
          type: 'object',
          required: ['total', 'by_deployment_mode', 'by_connection_status', 'by_transport'],
          properties: {
            total: { type: 'integer' },
            by_deployment_mode: { type: 'object', additionalProperties: { type: 'integer' } },
            by_connection_status: { type: 'object', additionalProperties: { type: 'integer' } },
            by_transport: { type: 'object', additionalProperties: { type: 'integer' } },
          },
        },
        AgentSummary: agentSummary,
        AgentList: {
          type: 'object',
          required: ['items', 'nextCursor'],
          properties: { items: { type: 'array', items: ref('AgentSummary') }, nextCursor: nullable('string') },
        },
        AgentDetail: {
          type: 'object',
          required: (agentSummary['required'] as string[]).filter((k) => k !== 'instances'),
          properties: {
            ...(agentSummary['properties'] as Schema),
            instancesLive: { type: 'integer', description: 'Live instances (the list’s `instances`).' },
            instances: {
              type: 'array',
              description: 'Every registered instance of the agent.',
              items: {
                type: 'object',
                properties: {
                  instanceId: { type: 'string' },
                  runtime: { type: 'string' },
                  registeredAt: { type: 'string', format: 'date-time' },
                  lastSeen: { ...nullable('string'), format: 'date-time' },
                  connectionStatus: { type: 'string', enum: [...CONNECTION_STATUSES] },
                  intervalSeconds: { type: 'integer' },
                  transport: { type: 'string' },
                  deploymentMode: { type: 'string' },
                  status: nullable('string'),
                  phase: { type: 'string' },
                  score: nullable('integer'),
                  grade: nullable('string'),
                },
              },
            },
          },
        },
        Document: {
          type: 'object',
          required: ['namespace', 'name', 'instanceId'],
          properties: {
            namespace: { type: 'string' },
            name: { type: 'string' },
            instanceId: { type: 'string' },
            updatedAt: { type: 'string' },
          },
          additionalProperties: true,
          description: 'Plus one of health, gap or proof: the document as the instance sent it.',
        },
        History: {
          type: 'object',
          properties: {
            items: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  instanceId: { type: 'string' },
                  at: { type: 'string', format: 'date-time' },
                  phase: { type: 'string' },
                  score: nullable('integer'),
                  grade: nullable('string'),
                },
              },
            },
          },
        },
      },
    },
    paths: withClientErrors({
      '/api/v1/register': {
        post: {
          summary: 'Register an instance and get its heartbeat token',
          security: admin,
          requestBody: { required: true, content: { 'application/json': { schema: ref('RegisterRequest') } } },
          responses: {
            201: json(ref('RegisterResponse'), 'registered'),
            400: error('invalid body (a publicUrl that is not https:// among others); `field` names it'),
            403: error('missing or wrong admin key'),
            409: error('DEPLOYMENT_MODE_MISMATCH: the instance is registered in the other deployment mode'),
            422: error(
              'deploymentMode and publicUrl disagree (InvalidDeploymentMode), or hosted: publicUrl refused (InvalidPublicUrl, ForbiddenAddress: a private or reserved address) or its agent card could not be fetched or is not valid (AgentCardUnavailable, InvalidAgentCard)',
            ),
            503: error('no admin key configured'),
          },
        },
      },
      '/api/v1/heartbeat': {
        post: {
          summary: 'Report health and compliance',
          security: [{ instanceToken: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: ref('HeartbeatRequest') } } },
          responses: {
            204: { description: 'stored' },
            400: error('invalid body; `field` names it'),
            401: error('missing, invalid, expired or revoked token'),
            413: error('body over 64 KiB'),
            429: {
              ...error('faster than the minimum interval'),
              headers: { 'Retry-After': { schema: { type: 'integer' } } },
            },
            503: error('database unavailable; retry'),
          },
        },
      },
      '/api/v1/token/refresh': {
        post: {
          summary: 'Swap a valid token for a fresh one of the same instance (the old one is revoked)',
          security: [{ instanceToken: [] }],
          responses: {
            200: json(ref('RegisterResponse'), 'the new token'),
            401: error('missing, invalid, expired or revoked token'),
            503: error('database unavailable; retry'),
          },
        },
      },
      '/api/v1/agents': {
        get: {
          summary: 'Every agent in upstream AgentSpec’s shape (a bare array with agentName)',
          security: admin,
          parameters: [{ name: 'namespace', in: 'query', schema: label }],
          responses: {
            200: json({ type: 'array', items: ref('UpstreamAgent') }, 'every agent'),
            400: error('invalid query'),
          },
        },
      },
      '/api/v1/namespaces/{namespace}/agents': {
        get: {
          summary: 'A page of agents of one namespace, or of every namespace with -',
          security: admin,
          parameters: [
            {
              name: 'namespace',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^(-|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$', maxLength: 63 },
            },
            {
              name: 'phase',
              in: 'query',
              schema: { type: 'string', enum: ['Healthy', 'Degraded', 'Unhealthy', 'Unknown', 'Offline'] },
            },
            { name: 'name', in: 'query', schema: label },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
            {
              name: 'cursor',
              in: 'query',
              description: 'nextCursor of the previous page: the page starts after this namespace/name',
              schema: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
            },
          ],
          responses: { 200: json(ref('AgentList'), 'a page of agents'), 400: error('invalid path or query') },
        },
      },
      '/api/v1/agents/get_connection': {
        post: {
          summary: 'The connection envelope of one instance (seed 003)',
          security: admin,
          requestBody: { required: true, content: { 'application/json': { schema: ref('GetConnectionRequest') } } },
          responses: {
            200: json(ref('Connection'), 'the instance’s connection'),
            404: error('no such instance'),
            409: error('the instance id exists for more than one agent: add namespace and agent_type'),
          },
        },
      },
      '/api/v1/agents/get_connection_stats': {
        post: {
          summary: 'Instance counts by deployment mode, connection status and transport (seed 003)',
          security: admin,
          requestBody: { required: false, content: { 'application/json': { schema: ref('ConnectionStatsRequest') } } },
          responses: { 200: json(ref('ConnectionStats'), 'the aggregates') },
        },
      },
      '/api/v1/events': {
        get: {
          summary: 'Fleet events as Server-Sent Events, resumable with Last-Event-ID',
          description: `Event types: ${EVENT_TYPES.join(', ')}. Each event's data is its JSON with id, type, at, namespace and name.`,
          security: admin,
          parameters: [
            { name: 'namespace', in: 'query', schema: label },
            {
              name: 'types',
              in: 'query',
              description: 'comma-separated event types',
              schema: { type: 'string', pattern: `^(${typesAlternation})(,(${typesAlternation}))*$` },
            },
            { name: 'Last-Event-ID', in: 'header', schema: { type: 'string', pattern: '^[0-9]{1,15}$' } },
          ],
          responses: {
            200: {
              description: 'the stream: events with id, event (the type) and data (the JSON), and keep-alive comments',
              content: {
                'text/event-stream': {
                  schema: {
                    type: 'object',
                    properties: {
                      id: { type: 'string' },
                      event: { type: 'string', enum: [...EVENT_TYPES, 'reset'] },
                      data: { type: 'string', contentMediaType: 'application/json' },
                    },
                  },
                },
              },
            },
            400: error('invalid query or Last-Event-ID'),
            503: error(
              'too many streams on this replica (Retry-After), no admin key configured, or the database is unavailable',
            ),
          },
        },
      },
      '/api/v1/namespaces/{namespace}/agents/{name}': {
        get: {
          summary: 'One agent with its instances',
          security: admin,
          parameters: namespaceAndName,
          responses: { 200: json(ref('AgentDetail'), 'the agent'), 404: error('not registered') },
        },
        delete: {
          summary: 'Deregister an agent, revoking every token',
          security: admin,
          parameters: namespaceAndName,
          responses: { 204: { description: 'deregistered' }, 404: error('not registered') },
        },
      },
      '/api/v1/namespaces/{namespace}/agents/{name}/history': {
        get: {
          summary: 'Score history',
          security: admin,
          parameters: namespaceAndName,
          responses: { 200: json(ref('History'), 'newest first'), 404: error('not registered') },
        },
      },
      '/api/v1/namespaces/{namespace}/agents/{name}/probe': {
        post: {
          summary:
            'Probe now: each instance’s live report through its connected-mode WebSocket (from any replica), or why not',
          security: admin,
          parameters: [
            ...namespaceAndName,
            { name: 'timeoutSeconds', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 30, default: 5 } },
          ],
          responses: {
            200: json(
              ref('ProbeResponse'),
              'one outcome per instance: ok with its report, or offline | timeout | unreachable',
            ),
            400: error('invalid path or query'),
            404: error('not registered'),
          },
        },
      },
      ...documentPaths,
      '/api/v1/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
      '/healthz': { get: { summary: 'The process is up', responses: { 200: { description: 'ok' } } } },
      '/readyz': {
        get: {
          summary: 'The database answers',
          responses: { 200: { description: 'ready' }, 503: { description: 'not ready' } },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition format' } } },
      },
      '/': {
        get: {
          summary: 'The fleet dashboard (HTML; its files under /assets/). Sign in with the admin key.',
          responses: {
            200: { description: 'the dashboard', content: { 'text/html': { schema: { type: 'string' } } } },
            404: error('the dashboard is not built into this install'),
          },
        },
      },
    } as Record<string, Record<string, Operation>>),
  };
}

/** Path patterns of the document with the methods each serves (for 405 answers). */
export function servedMethods(document: Schema): { pattern: RegExp; methods: string[] }[] {
  return Object.entries(document['paths'] as Record<string, Record<string, unknown>>).map(([path, operations]) => ({
    pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    methods: Object.keys(operations).map((m) => m.toUpperCase()),
  }));
}
