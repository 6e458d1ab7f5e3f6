import { z } from 'zod';

export const CONDITION_TYPES = ['Ready', 'Progressing', 'Registered', 'Healthy', 'Compliant'] as const;

export const conditionSchema = z.strictObject({
  type: z.string().max(316).describe('Ready, Progressing, Registered, Healthy or Compliant.'),
  status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
  observedGeneration: z
    .number()
    .int()
    .min(0)
    .describe('The .metadata.generation this condition was computed for.')
    .optional(),
  lastTransitionTime: z.string().describe('When the status last changed.').meta({ format: 'date-time' }),
  reason: z.string().min(1).max(1024).describe('CamelCase reason.'),
  message: z.string().max(32768).describe('Human-readable detail.'),
});

export const agentStatusSchema = z
  .strictObject({
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .describe('The .metadata.generation the operator last acted on.')
      .optional(),
    phase: z
      .string()
      .max(64)
      .describe('Pending, Progressing, Running, Degraded, Unhealthy, Offline, Failed or Unknown.')
      .optional(),
    grade: z.enum(['A', 'B', 'C', 'D', 'F']).describe('Compliance grade reported by the agent.').optional(),
    score: z.number().int().min(0).max(100).describe('Compliance score 0 to 100.').optional(),
    source: z.enum(['agent-sdk', 'manifest-static']).describe('Where the score came from.').optional(),
    lastHeartbeat: z
      .string()
      .describe('Time of the last heartbeat of any instance.')
      .meta({ format: 'date-time' })
      .optional(),
    replicas: z.number().int().min(0).describe('Pods of the Deployment.').optional(),
    readyReplicas: z.number().int().min(0).describe('Ready pods of the Deployment.').optional(),
    instances: z
      .number()
      .int()
      .min(0)
      .describe('Live instances: registered with the control plane and heartbeating within 3 intervals.')
      .optional(),
    instancesTotal: z
      .number()
      .int()
      .min(0)
      .describe('Instances registered with the control plane, offline ones included (until their retention ends).')
      .optional(),
    conditions: z
      .array(conditionSchema)
      .max(16)
      .describe('Ready, Progressing, Registered, Healthy, Compliant.')
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
      .optional(),
  })
  .describe('Observed state of the agent, written by the operator.');

export type AgentStatus = z.output<typeof agentStatusSchema>;
export type AgentCondition = z.output<typeof conditionSchema>;
