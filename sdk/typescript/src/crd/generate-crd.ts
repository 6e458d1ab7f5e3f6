import { z } from 'zod';
import { agentResourceSpecSchema } from '../manifest/schema.js';
import { agentStatusSchema } from './status-schema.js';

type Schema = Record<string, unknown> & {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string }[];
};

const celList = (values: readonly unknown[]): string => `[${values.map((v) => `'${String(v)}'`).join(', ')}]`;

/**
 * Objects of a discriminated union (guardrails) become one structural object: the union of their properties,
 * the fields every variant requires, and CEL rules for what differs by `type`.
 */
function mergeVariants(variants: Schema[]): Schema {
  const discriminator = 'type';
  const properties: Record<string, Schema> = {};
  const rules: NonNullable<Schema['x-kubernetes-validations']> = [];
  const typeValues: unknown[] = [];
  for (const variant of variants) {
    for (const [key, prop] of Object.entries(variant.properties ?? {})) {
      const existing = properties[key];
      if (!existing) properties[key] = { ...prop };
      else if (existing.enum && prop.enum) existing.enum = [...new Set([...existing.enum, ...prop.enum])];
    }
    typeValues.push(...(variant.properties?.[discriminator]?.enum ?? []));
  }
  const allKeys = Object.keys(properties);
  for (const variant of variants) {
    const value = String(variant.properties?.[discriminator]?.enum?.[0]);
    const own = Object.keys(variant.properties ?? {});
    const needed = (variant.required ?? []).filter((k) => k !== discriminator);
    const notAllowed = allKeys.filter((k) => !own.includes(k));
    if (needed.length) {
      rules.push({
        rule: `self.type != '${value}' || (${needed.map((k) => `has(self.${k})`).join(' && ')})`,
        message: `type ${value} needs ${needed.join(', ')}`,
      });
    }
    if (notAllowed.length) {
      rules.push({
        rule: `self.type != '${value}' || !(${notAllowed.map((k) => `has(self.${k})`).join(' || ')})`,
        message: `type ${value} allows only ${own.join(', ')}`,
      });
    }
    for (const [key, prop] of Object.entries(variant.properties ?? {})) {
      const merged = properties[key]?.enum;
      if (key !== discriminator && prop.enum && merged && merged.length !== prop.enum.length) {
        rules.push({
          rule: `self.type != '${value}' || !has(self.${key}) || self.${key} in ${celList(prop.enum)}`,
          message: `${key} of type ${value} must be one of ${prop.enum.join(', ')}`,
        });
      }
    }
  }
  properties[discriminator] = { ...properties[discriminator], enum: typeValues };
  const required = variants.map((v) => v.required ?? []).reduce((acc, req) => acc.filter((k) => req.includes(k)));
  return { type: 'object', properties, required, 'x-kubernetes-validations': rules };
}

/** Rewrites zod's JSON Schema into a Kubernetes structural schema. */
export function toStructural(input: Schema): Schema {
  const union = input.oneOf ?? input.anyOf;
  if (union) {
    const types = union.map((s) => s.type);
    if (types.every((t) => t === 'object'))
      return toStructural({ ...mergeVariants(union), description: input.description });
    if (types.length === 2 && types.includes('string') && (types.includes('number') || types.includes('integer'))) {
      const { oneOf: _o, anyOf: _a, ...rest } = input;
      return { ...rest, 'x-kubernetes-int-or-string': true };
    }
    throw new Error(`cannot express a union of ${types.join(', ')} in a structural schema`);
  }
  const out: Schema = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, toStructural(v)]),
      );
    } else if (key === 'items') {
      out.items = toStructural(value as Schema);
    } else if (key === 'additionalProperties') {
      // Unknown fields are pruned (and rejected by kubectl's strict field validation) without it; an object
      // with its own properties may not have both. A map keeps its value schema.
      if (typeof value === 'object' && value !== null && Object.keys(value).length > 0 && !input.properties) {
        out.additionalProperties = toStructural(value as Schema);
      }
    } else if (key === '$schema' || key === 'id' || key.startsWith('x-agentspec-')) {
      // x-agentspec-* keywords are for the exported JSON Schema (json-schema.ts), not the apiserver.
      continue;
    } else {
      out[key] = value;
    }
  }
  if (out['x-kubernetes-preserve-unknown-fields'] && out.properties && Object.keys(out.properties).length === 0) {
    delete out.properties;
  }
  return out;
}

function jsonSchemaOf(schema: z.ZodType): Schema {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' }) as Schema;
}

/** The Agent CustomResourceDefinition, generated from the SDK's schema. */
export function generateAgentCrd(): Record<string, unknown> {
  const spec = toStructural(jsonSchemaOf(agentResourceSpecSchema));
  const status = toStructural(jsonSchemaOf(agentStatusSchema));
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'agents.agentspec.io' },
    spec: {
      group: 'agentspec.io',
      names: {
        kind: 'Agent',
        listKind: 'AgentList',
        plural: 'agents',
        singular: 'agent',
        shortNames: ['ag'],
        categories: ['agentspec'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Grade', type: 'string', jsonPath: '.status.grade' },
            { name: 'Score', type: 'integer', jsonPath: '.status.score' },
            { name: 'Instances', type: 'integer', jsonPath: '.status.instances' },
            { name: 'Total', type: 'integer', jsonPath: '.status.instancesTotal', priority: 1 },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                'An AI agent described by its agent.yaml: model, prompts, tools, memory, guardrails and what it needs. ' +
                'The operator runs it with the agentspec-sidecar and reports its health and compliance grade.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'agentspec.io/v1' },
                kind: { type: 'string', description: 'Agent' },
                metadata: { type: 'object' },
                spec,
                status,
              },
              'x-kubernetes-validations': [
                {
                  rule: "self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
                  message: 'metadata.name must be an RFC 1123 label of at most 63 characters (it names the Service)',
                },
              ],
            },
          },
        },
      ],
    },
  };
}
