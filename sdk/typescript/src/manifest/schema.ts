// The one definition of an agent. TypeScript types are inferred from it, `loadManifest` validates with it,
// and `make crds` generates the Agent CRD's OpenAPI schema (descriptions, CEL rules) from it.
// Field names, nesting, types and enums follow the upstream agent.yaml users already have.
import { z } from 'zod';
import { withRules } from './cross-field.js';
import { ref } from './refs.js';

// Leniency (issue #20): where upstream's schema accepts a value, so does ours, and the judgement moves to the
// manifest warnings (./warnings.ts) shown by `agentspec validate`/`audit`, in every audit's `warnings` and in the
// Agent's events. Kept strict: what upstream enforces too (enums, ranges, slugs, semver), what Kubernetes needs
// (metadata.name is a 63-character DNS label, the Deployment fields), references (a malformed `$env:` or a `$file:`
// leaving the manifest's directory cannot be resolved safely), unknown keys (refused, see MANIFEST-FIELDS: a typo
// must not silently drop a limit), and length bounds (generous; an Agent must fit etcd's object size and no input
// is unbounded).
const str = (description: string) => z.string().max(65536).describe(description);
/** A name upstream leaves free: an empty one loads, and is reported by the manifest warnings. */
const label = (description: string) => z.string().max(253).describe(description);
const name = (description: string) => z.string().min(1).max(253).describe(description);
const bool = (description: string) => z.boolean().describe(description);
const int = (description: string) => z.number().int().describe(description);
const list = <T extends z.ZodType>(item: T, description: string, max = 256) =>
  z.array(item).max(max).describe(description);
const strings = (description: string, max = 256) => list(z.string().max(1024), description, max);

export const SEMVER = /^\d+\.\d+\.\d+$/;
export const SLUG = /^[a-z0-9-]+$/;
/** RFC 1123 label: Kubernetes object names used as Service names, and control-plane agent names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// ---------------------------------------------------------------- model

export const FALLBACK_TRIGGERS = ['rate_limit', 'timeout', 'error_5xx', 'error_4xx'] as const;

export const modelSchema = z
  .strictObject({
    provider: label('Model provider, e.g. openai, anthropic, groq, azure, bedrock, vertex, ollama.'),
    id: label('Model id at the provider, e.g. gpt-4o or claude-sonnet-4. Avoid "latest": pin a version.'),
    apiKey: ref('API key for the provider. Use $secret: in production.').optional(),
    parameters: z
      .strictObject({
        temperature: z.number().min(0).max(2).describe('Sampling temperature, 0 to 2.').optional(),
        maxTokens: int('Maximum tokens per response.').min(1).optional(),
        topP: z.number().min(0).max(1).describe('Nucleus sampling, 0 to 1.').optional(),
        frequencyPenalty: z.number().describe('Frequency penalty.').optional(),
        presencePenalty: z.number().describe('Presence penalty.').optional(),
      })
      .describe('Generation parameters.')
      .optional(),
    fallback: z
      .strictObject({
        provider: label('Fallback model provider.'),
        id: label('Fallback model id.'),
        apiKey: ref('API key for the fallback provider.').optional(),
        triggerOn: list(z.enum(FALLBACK_TRIGGERS), 'Errors that switch to the fallback model.', 4).optional(),
        maxRetries: int('Retries before giving up, 0 to 10.').min(0).max(10).optional(),
      })
      .describe('A second model used when the primary fails.')
      .optional(),
    costControls: z
      .strictObject({
        maxMonthlyUSD: z.number().gt(0).describe('Monthly spend limit in USD.').optional(),
        alertAtUSD: z
          .number()
          .gt(0)
          .describe('Spend in USD at which to alert; one above maxMonthlyUSD is reported by the manifest warnings.')
          .optional(),
      })
      .describe('Spend limits.')
      .optional(),
  })
  .describe('The language model the agent calls.');

// ---------------------------------------------------------------- prompts, tools, mcp

export const promptsSchema = z
  .strictObject({
    system: ref('System prompt; $file:prompts/system.md keeps it out of the manifest.'),
    fallback: str('Prompt used when the system prompt cannot be loaded.').optional(),
    hotReload: bool('Reload prompt files when they change.').default(false),
    variables: list(
      z.strictObject({ name: label('Variable name.'), value: ref('Variable value.') }),
      'Variables substituted into the prompts.',
      64,
    ).optional(),
  })
  .describe('Prompts.');

export const TOOL_TYPES = ['function', 'mcp', 'builtin'] as const;

export const toolSchema = z.strictObject({
  name: name('Tool name, unique within the agent (a repeated one is reported by the manifest warnings).'),
  type: z.enum(TOOL_TYPES).describe('How the tool is provided: function, mcp or builtin.'),
  description: str('What the tool does (shown to the model).').optional(),
  module: str('Module that implements a function tool.').optional(),
  function: str('Function name within the module.').optional(),
  annotations: z
    .strictObject({
      readOnlyHint: bool('The tool does not change anything.').optional(),
      destructiveHint: bool('The tool may destroy or irreversibly change data.').optional(),
      idempotentHint: bool('Calling the tool twice has the effect of calling it once.').optional(),
      openWorldHint: bool('The tool reaches systems outside the agent.').optional(),
    })
    .describe('MCP-style behaviour hints, used by guardrails and the audit.')
    .optional(),
});

export const MCP_TRANSPORTS = ['stdio', 'sse', 'http'] as const;

export const mcpServerSchema = z.strictObject({
  name: label('Server name.'),
  transport: z.enum(MCP_TRANSPORTS).describe('stdio, sse or http.'),
  command: str('Command that starts a stdio server (one without is reported by the manifest warnings).').optional(),
  args: strings('Arguments of the command.', 64).optional(),
  url: ref('URL of an sse or http server (one without is reported by the manifest warnings).').optional(),
  env: z.record(z.string().max(253), ref('Value.')).describe('Environment of a stdio server.').optional(),
  healthCheck: z
    .strictObject({ timeoutSeconds: int('Health check timeout, 1 to 60 seconds.').min(1).max(60).default(5) })
    .describe('Health check settings.')
    .optional(),
});

// ---------------------------------------------------------------- memory

export const memorySchema = z
  .strictObject({
    shortTerm: z
      .strictObject({
        backend: z.enum(['in-memory', 'redis', 'sqlite']).describe('in-memory, redis or sqlite.'),
        maxTurns: int('Conversation turns kept.').min(1).optional(),
        maxTokens: int('Tokens kept.').min(1).optional(),
        ttlSeconds: int('Seconds a conversation is kept; 0 keeps it for the session only.').min(0).optional(),
        connection: ref('Connection string of the backend.').optional(),
      })
      .describe('Conversation memory.')
      .optional(),
    longTerm: z
      .strictObject({
        backend: z.enum(['postgres', 'sqlite', 'mongodb']).describe('postgres, sqlite or mongodb.'),
        connectionString: ref('Connection string of the backend.').optional(),
        table: str('Table or collection.').optional(),
        ttlDays: int('Days a memory is kept (at least 1).').min(1).optional(),
      })
      .describe('Memory across conversations.')
      .optional(),
    vector: z
      .strictObject({
        backend: z.enum(['pgvector', 'pinecone', 'weaviate', 'qdrant', 'chroma']).describe('Vector store.'),
        connectionString: ref('Connection string of the store.').optional(),
        apiKey: ref('API key of the store.').optional(),
        dimension: int('Embedding dimension.').min(1).optional(),
        topK: int('Results per query.').min(1).optional(),
        namespace: str('Namespace that isolates this agent’s vectors.').optional(),
      })
      .describe('Vector memory.')
      .optional(),
    hygiene: z
      .strictObject({
        piiScrubFields: strings('Fields scrubbed of personal data before they are stored.').optional(),
        auditLog: bool('Log every memory read and write.').default(false),
        retentionPolicy: str('Retention policy, free text or a policy id.').optional(),
      })
      .describe('Data hygiene for stored memory.')
      .optional(),
  })
  .describe('Memory backends.');

// ---------------------------------------------------------------- subagents, api, skills

export const subagentSchema = z.strictObject({
  name: label('Subagent name.'),
  ref: withRules(
    z
      .strictObject({
        agentspec: str('Path of the subagent’s agent.yaml.').optional(),
        a2a: z
          .strictObject({
            url: ref('A2A endpoint of the subagent.'),
            auth: z
              .strictObject({
                type: z.enum(['bearer', 'apikey', 'none']).describe('bearer, apikey or none.'),
                token: ref('Token or key.').optional(),
                header: str('Header that carries an API key.').optional(),
              })
              .describe('Authentication.')
              .optional(),
          })
          .describe('A remote subagent reached over A2A.')
          .optional(),
      })
      .describe('Where the subagent is: a local agent.yaml or an A2A endpoint (with both, agentspec is used).'),
    [
      {
        check: (r) => r.agentspec !== undefined || r.a2a !== undefined,
        cel: 'has(self.agentspec) || has(self.a2a)',
        message: 'set agentspec or a2a',
      },
    ],
  ),
  invocation: z.enum(['parallel', 'sequential', 'on-demand']).describe('parallel, sequential or on-demand.').optional(),
  passContext: bool('Pass the conversation context to the subagent.').optional(),
  triggerKeywords: strings('Keywords that invoke an on-demand subagent.').optional(),
});

export const apiSchema = z
  .strictObject({
    type: z.enum(['rest', 'mcp', 'grpc', 'websocket']).describe('rest, mcp, grpc or websocket.').optional(),
    port: int('Port the agent listens on.').min(1).max(65535).optional(),
    pathPrefix: str('Path prefix of the API.').optional(),
    healthEndpoint: str('Health endpoint path.').optional(),
    metricsEndpoint: str('Metrics endpoint path.').optional(),
    auth: z
      .strictObject({
        type: z.enum(['jwt', 'apikey', 'oauth2', 'none']).describe('jwt, apikey, oauth2 or none.'),
        jwksUri: ref('JWKS URI for jwt auth.').optional(),
        header: str('Header that carries the credential.').optional(),
      })
      .describe('Authentication of callers.')
      .optional(),
    rateLimit: z
      .strictObject({
        requestsPerMinute: int('Requests per minute.').min(1).optional(),
        requestsPerHour: int('Requests per hour.').min(1).optional(),
      })
      .describe('Rate limits of callers.')
      .optional(),
    streaming: bool('Responses stream.').optional(),
    corsOrigins: strings('Allowed CORS origins.').optional(),
    chatEndpoint: z
      .strictObject({
        path: str('Chat path.').default('/v1/chat'),
        protocol: z.enum(['openai-compatible', 'custom']).describe('openai-compatible or custom.').optional(),
        streaming: bool('The chat endpoint streams.').optional(),
        sessionMode: z.enum(['stateful', 'stateless']).describe('stateful or stateless.').optional(),
        threadIdHeader: str('Header carrying the thread id.').default('X-Thread-Id'),
      })
      .describe('Chat endpoint.')
      .optional(),
  })
  .describe('The API the agent serves.');

// ---------------------------------------------------------------- guardrails

const guardrailAction = <const A extends readonly [string, ...string[]]>(actions: A) =>
  z.enum(actions).describe(`What happens on a hit: ${actions.join(', ')}.`);

const topicFilter = z.strictObject({
  type: z.literal('topic-filter'),
  blockedTopics: strings('Topics the agent refuses.'),
  action: guardrailAction(['reject', 'warn', 'log'] as const),
  message: str('Message shown when a topic is blocked.').optional(),
});
const piiDetector = z.strictObject({
  type: z.literal('pii-detector'),
  action: guardrailAction(['scrub', 'reject', 'warn'] as const),
  fields: strings('Kinds of personal data to detect (email, phone, ...).').optional(),
});
const promptInjection = z.strictObject({
  type: z.literal('prompt-injection'),
  action: guardrailAction(['reject', 'warn'] as const),
  sensitivity: z.enum(['low', 'medium', 'high']).describe('low, medium or high.').optional(),
});
const customGuardrail = z.strictObject({
  type: z.literal('custom'),
  module: str('Module that implements the guardrail.'),
  function: str('Function within the module.'),
  action: guardrailAction(['reject', 'warn', 'log'] as const),
});
const hallucinationDetector = z.strictObject({
  type: z.literal('hallucination-detector'),
  threshold: z.number().min(0).max(1).describe('Score above which a response counts as hallucinated, 0 to 1.'),
  action: guardrailAction(['reject', 'retry', 'warn'] as const),
  maxRetries: int('Retries, 1 to 5.').min(1).max(5).optional(),
});
const toxicityFilter = z.strictObject({
  type: z.literal('toxicity-filter'),
  threshold: z.number().min(0).max(1).describe('Toxicity score above which the action applies, 0 to 1.'),
  action: guardrailAction(['reject', 'warn'] as const),
});

export const inputGuardrailSchema = z.discriminatedUnion('type', [
  topicFilter,
  piiDetector,
  promptInjection,
  customGuardrail,
]);
export const outputGuardrailSchema = z.discriminatedUnion('type', [
  hallucinationDetector,
  toxicityFilter,
  piiDetector,
  customGuardrail,
]);

export const guardrailsSchema = z
  .strictObject({
    input: list(inputGuardrailSchema, 'Checks on what users send.', 32).optional(),
    output: list(outputGuardrailSchema, 'Checks on what the agent answers.', 32).optional(),
  })
  .describe('Input and output guardrails.');

// ---------------------------------------------------------------- human in the loop, evaluation, observability

export const humanInTheLoopSchema = z
  .strictObject({
    enabled: bool('Human approval is on.').optional(),
    approvalRequired: list(
      z.enum(['before-destructive-tool', 'before-external-call', 'on-low-confidence', 'on-high-cost', 'always']),
      'When approval is needed.',
      8,
    ).optional(),
    timeoutSeconds: int('Seconds to wait for approval, 1 to 3600.').min(1).max(3600).default(300),
    timeoutAction: z.enum(['reject', 'proceed', 'escalate']).describe('reject, proceed or escalate.').optional(),
    notifyVia: list(z.enum(['slack', 'email', 'webhook', 'console']), 'Channels asked for approval.', 8).optional(),
    webhookUrl: ref(
      'Webhook called for approval (notifyVia webhook without it is reported by the manifest warnings).',
    ).optional(),
  })
  .describe('Human approval of risky actions.');

export const EVALUATION_METRICS = [
  'faithfulness',
  'answer_relevancy',
  'answer_similarity',
  'hallucination',
  'toxicity',
  'context_precision',
  'context_recall',
  'bias',
  'custom',
] as const;
const metric = z.enum(EVALUATION_METRICS);

export const evaluationSchema = z
  .strictObject({
    framework: z
      .enum(['deepeval', 'braintrust', 'langsmith', 'ragas', 'custom'])
      .describe('deepeval, braintrust, langsmith, ragas or custom.')
      .optional(),
    datasets: list(
      z.strictObject({
        name: label('Dataset name.'),
        path: ref('Dataset file.'),
        metrics: list(metric, 'Metrics computed on this dataset.', 16).optional(),
      }),
      'Evaluation datasets.',
      64,
    ).optional(),
    metrics: list(metric, 'Metrics computed.', 16).optional(),
    thresholds: z
      .strictObject(
        Object.fromEntries(EVALUATION_METRICS.map((m) => [m, z.number().min(0).max(1).optional()])) as Record<
          (typeof EVALUATION_METRICS)[number],
          z.ZodOptional<z.ZodNumber>
        >,
      )
      .describe('Minimum (or, for hallucination/toxicity/bias, maximum) score per metric, 0 to 1.')
      .optional(),
    ciGate: bool('Fail CI when a threshold is missed.').default(false),
  })
  .describe('Offline evaluation.');

export const observabilitySchema = z
  .strictObject({
    tracing: z
      .strictObject({
        backend: z
          .enum(['langfuse', 'langsmith', 'agentops', 'otel', 'honeycomb', 'datadog'])
          .describe('langfuse, langsmith, agentops, otel, honeycomb or datadog.'),
        endpoint: ref('Collector endpoint.').optional(),
        publicKey: ref('Public key.').optional(),
        secretKey: ref('Secret key.').optional(),
        sampleRate: z.number().min(0).max(1).describe('Fraction of traces kept, 0 to 1.').optional(),
      })
      .describe('Tracing.')
      .optional(),
    metrics: z
      .strictObject({
        backend: z.enum(['opentelemetry', 'prometheus', 'datadog']).describe('opentelemetry, prometheus or datadog.'),
        endpoint: ref('Metrics endpoint.').optional(),
        serviceName: str('Service name reported.').optional(),
      })
      .describe('Metrics.')
      .optional(),
    logging: z
      .strictObject({
        level: z.enum(['debug', 'info', 'warn', 'error']).describe('debug, info, warn or error.').optional(),
        structured: bool('JSON logs.').default(true),
        redactFields: strings('Fields redacted from logs.').optional(),
      })
      .describe('Logging.')
      .optional(),
  })
  .describe('Tracing, metrics and logging.');

// ---------------------------------------------------------------- compliance, requires

export const COMPLIANCE_PACKS = [
  'owasp-llm-top10',
  'model-resilience',
  'memory-hygiene',
  'evaluation-coverage',
  'observability',
  'metadata-quality',
] as const;

export const complianceSchema = z
  .strictObject({
    packs: list(z.enum(COMPLIANCE_PACKS), 'Compliance packs audited (all when empty).', 8).optional(),
    suppressions: list(
      z.strictObject({
        rule: label('Rule id, e.g. SEC-LLM-10.'),
        reason: str('Why the rule does not apply.'),
        approvedBy: str('Who approved the suppression.').optional(),
        expires: z.iso.date().describe('Date (YYYY-MM-DD) after which the suppression no longer applies.').optional(),
      }),
      'Rules switched off, with a reason.',
      128,
    ).optional(),
    auditSchedule: z.enum(['daily', 'weekly', 'monthly', 'on-change']).describe('How often to audit.').optional(),
  })
  .describe('Compliance audit settings.');

export const SERVICE_TYPES = ['postgres', 'redis', 'mysql', 'mongodb', 'elasticsearch'] as const;

export const requiresSchema = z
  .strictObject({
    envVars: strings('Environment variables the agent needs.').optional(),
    services: list(
      z.strictObject({
        type: z.enum(SERVICE_TYPES).describe('postgres, redis, mysql, mongodb or elasticsearch.'),
        connection: ref('Connection string or host:port.'),
      }),
      'Services the agent needs.',
      64,
    ).optional(),
    minimumMemoryMB: int('Memory the agent needs, at least 128 MB.').min(128).optional(),
    nodeVersion: str('Node.js version range.').optional(),
    pythonVersion: str('Python version range.').optional(),
  })
  .describe('What the agent needs to run.');

// ---------------------------------------------------------------- the agent fields shared by both forms

export const agentFields = {
  model: modelSchema,
  prompts: promptsSchema,
  tools: list(toolSchema, 'Tools the agent can call.', 256).optional(),
  mcp: z
    .strictObject({ servers: list(mcpServerSchema, 'MCP servers.', 64).optional() })
    .describe('MCP servers the agent uses.')
    .optional(),
  memory: memorySchema.optional(),
  subagents: list(subagentSchema, 'Agents this agent delegates to.', 64).optional(),
  api: apiSchema.optional(),
  skills: list(
    z.strictObject({ id: label('Skill id.'), version: str('Skill version.').optional() }),
    'Skills.',
    64,
  ).optional(),
  guardrails: guardrailsSchema.optional(),
  humanInTheLoop: humanInTheLoopSchema.optional(),
  evaluation: evaluationSchema.optional(),
  observability: observabilitySchema.optional(),
  compliance: complianceSchema.optional(),
  requires: requiresSchema.optional(),
};

// ---------------------------------------------------------------- the upstream form: kind AgentSpec

/**
 * What the agent does (both forms). Upstream accepts any non-empty string and leaves a blank one to the audit
 * (META-01): so do we, for existing files to keep loading.
 */
const descriptionSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(4096)
  .describe('What the agent does (a blank one loads, and fails the audit rule META-01).');

export const agentSpecMetadataSchema = z.strictObject({
  name: z.string().regex(SLUG, 'must be a lowercase slug ([a-z0-9-]+)').max(63).describe('Agent name.'),
  version: z.string().regex(SEMVER, 'must be a version X.Y.Z').describe('Agent version, X.Y.Z.'),
  description: descriptionSchema,
  tags: strings('Tags.').optional(),
  author: str('Author.').optional(),
  license: str('License.').optional(),
});

export const agentSpecManifestSchema = z.strictObject({
  apiVersion: z.literal('agentspec.io/v1'),
  kind: z.literal('AgentSpec'),
  metadata: agentSpecMetadataSchema,
  spec: z.strictObject(agentFields),
});

// ---------------------------------------------------------------- the Kubernetes form: kind Agent

const quantityMap = (description: string) =>
  z.record(z.string().max(253), z.union([z.string().max(64), z.number()])).describe(description);

export const SIDECAR_OPA_MODES = ['track', 'enforce', 'off'] as const;

export const deploymentSchema = z
  .strictObject({
    image: z.string().min(1).max(1024).describe('Container image of the agent.').optional(),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).describe('Image pull policy.').optional(),
    replicas: int('Number of pods.').min(0).max(1000).default(1),
    port: int('Port the agent container listens on (the sidecar proxies to it).').min(1).max(65535).default(8000),
    command: strings('Entrypoint override.', 64).optional(),
    args: strings('Arguments.', 256).optional(),
    env: list(
      z.strictObject({
        name: z.string().min(1).max(253).describe('Variable name.'),
        value: z.string().max(65536).describe('Value.').optional(),
        valueFrom: z
          .looseObject({})
          .describe('Source of the value (secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef).')
          .meta({ 'x-kubernetes-preserve-unknown-fields': true })
          .optional(),
      }),
      'Environment variables of the agent container.',
      256,
    ).optional(),
    envFrom: list(
      z.strictObject({
        prefix: str('Prefix of every variable.').optional(),
        configMapRef: z
          .strictObject({ name: name('ConfigMap name.'), optional: bool('May be missing.').optional() })
          .optional(),
        secretRef: z
          .strictObject({ name: name('Secret name.'), optional: bool('May be missing.').optional() })
          .optional(),
      }),
      'Sources of environment variables.',
      64,
    ).optional(),
    resources: z
      .strictObject({
        requests: quantityMap('Requested resources, e.g. cpu: 100m, memory: 256Mi.').optional(),
        limits: quantityMap('Resource limits.').optional(),
      })
      .describe('Resources of the agent container.')
      .optional(),
    serviceAccountName: z.string().regex(DNS_LABEL).max(253).describe('ServiceAccount of the pods.').optional(),
    runAsUser: z
      .number()
      .int()
      .min(1)
      .max(2_147_483_647)
      .describe(
        'User id the agent container runs as. Pods always run as non-root (Pod Security "restricted"): set this when the image declares no numeric non-root USER.',
      )
      .optional(),
    podLabels: z.record(z.string().max(317), z.string().max(63)).describe('Extra labels of the pods.').optional(),
    podAnnotations: z
      .record(z.string().max(317), z.string().max(65536))
      .describe('Extra annotations of the pods.')
      .optional(),
    sidecar: z
      .strictObject({
        image: z.string().min(1).max(1024).describe('agentspec-sidecar image (default: the operator’s).').optional(),
        resources: z
          .strictObject({ requests: quantityMap('Requests.').optional(), limits: quantityMap('Limits.').optional() })
          .describe('Resources of the sidecar.')
          .optional(),
        opaUrl: z.string().max(1024).describe('OPA base URL (OPA_URL).').optional(),
        opaProxyMode: z.enum(SIDECAR_OPA_MODES).describe('OPA_PROXY_MODE: track, enforce or off.').optional(),
        auditRingSize: int('AUDIT_RING_SIZE: audit entries kept.').min(1).max(1_000_000).optional(),
      })
      .describe('agentspec-sidecar settings.')
      .optional(),
  })
  .describe('How the operator runs the agent: image, replicas, port, environment, resources, sidecar.');

export const agentResourceSpecSchema = z.strictObject({
  description: descriptionSchema,
  version: z.string().regex(SEMVER, 'must be a version X.Y.Z').describe('Agent version, X.Y.Z.'),
  tags: strings('Tags.').optional(),
  author: str('Author.').optional(),
  license: str('License.').optional(),
  ...agentFields,
  deployment: deploymentSchema.optional(),
});

export const agentResourceSchema = z.strictObject({
  apiVersion: z.literal('agentspec.io/v1'),
  kind: z.literal('Agent'),
  metadata: z.looseObject({
    name: z
      .string()
      .regex(DNS_LABEL, 'must be an RFC 1123 label ([a-z0-9-], starting and ending alphanumeric)')
      .max(63),
    namespace: z.string().optional(),
  }),
  spec: agentResourceSpecSchema,
  status: z.looseObject({}).optional(),
});

export type AgentFields = z.output<z.ZodObject<typeof agentFields>>;
export type AgentSpecManifest = z.output<typeof agentSpecManifestSchema>;
export type AgentResource = z.output<typeof agentResourceSchema>;
export type AgentResourceSpec = z.output<typeof agentResourceSpecSchema>;
export type DeploymentSettings = z.output<typeof deploymentSchema>;
export type Tool = z.output<typeof toolSchema>;
export type McpServer = z.output<typeof mcpServerSchema>;
export type ComplianceSuppression = NonNullable<NonNullable<AgentFields['compliance']>['suppressions']>[number];
