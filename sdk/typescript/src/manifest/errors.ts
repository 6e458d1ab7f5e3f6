import type { z } from 'zod';
import { inputGuardrailSchema, outputGuardrailSchema } from './schema.js';

export interface ManifestIssue {
  /** Where, e.g. `spec.tools[2].annotations.destructiveHint` ("" for the whole document). */
  path: string;
  message: string;
}

/** A manifest that cannot be used; every issue names its field. */
export class ManifestError extends Error {
  constructor(
    readonly issues: ManifestIssue[],
    readonly file?: string,
  ) {
    const where = file ? `${file}: ` : '';
    super(`${where}invalid agent manifest:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    this.name = 'ManifestError';
  }
}

export function formatIssue(issue: ManifestIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(segment))) out += out ? `.${String(segment)}` : String(segment);
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

const discriminatorValues = (schema: { options: readonly { shape: { type: { value: unknown } } }[] }): string =>
  schema.options.map((o) => String(o.shape.type.value)).join(', ');

function describeType(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  return typeof input;
}

/** Turns zod issues into one line per problem, naming the field. Never echoes values (they may be secrets). */
export function toManifestIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    switch (issue.code) {
      case 'invalid_type':
        issues.push({
          path: formatPath(path),
          message:
            issue.input === undefined ? 'is required' : `expected ${issue.expected}, got ${describeType(issue.input)}`,
        });
        break;
      case 'unrecognized_keys':
        for (const key of issue.keys) issues.push({ path: formatPath([...path, key]), message: 'unknown field' });
        break;
      case 'invalid_value':
        issues.push({
          path: formatPath(path),
          message: `expected ${issue.values.length > 1 ? 'one of ' : ''}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
        });
        break;
      case 'invalid_union': {
        const where = formatPath(path);
        if ('discriminator' in issue && issue.discriminator) {
          // zod points at the discriminator itself; the union it belongs to is the parent.
          const field = path.at(-1) === issue.discriminator ? path : [...path, issue.discriminator];
          const allowed = /guardrails\.output\[\d+\]$/.test(formatPath(field.slice(0, -1)))
            ? discriminatorValues(outputGuardrailSchema)
            : discriminatorValues(inputGuardrailSchema);
          issues.push({ path: formatPath(field), message: `expected one of ${allowed}` });
        } else {
          issues.push({ path: where, message: 'does not match any allowed form' });
        }
        break;
      }
      case 'too_small':
      case 'too_big': {
        const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
        const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
        const message =
          issue.origin === 'array'
            ? `must have ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)} items`
            : issue.origin === 'string'
              ? issue.message.startsWith('Too') // zod's default; a custom message says more
                ? `must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)} characters`
                : issue.message
              : `must be ${op} ${String(bound)}`;
        issues.push({ path: formatPath(path), message });
        break;
      }
      case 'invalid_format':
        issues.push({
          path: formatPath(path),
          message:
            issue.format === 'date' ? 'expected a date YYYY-MM-DD' : issue.message.replace(/^Invalid string: /, ''),
        });
        break;
      case 'not_multiple_of':
        issues.push({ path: formatPath(path), message: `must be a multiple of ${String(issue.divisor)}` });
        break;
      default:
        issues.push({ path: formatPath(path), message: issue.message });
    }
  }
  return issues;
}
