import type { z } from 'zod';
import { formatPath } from '@agentspec/sdk';
import { ApiError } from './api-error.js';

/** Parses `value` or throws a 400 naming the first offending field. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue ? formatPath(issue.path) : '';
  let message = issue?.message ?? 'invalid body';
  if (issue?.code === 'invalid_type') {
    message = issue.input === undefined ? 'is required' : `expected ${issue.expected}`;
  } else if (issue?.code === 'invalid_value') {
    message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  throw new ApiError(400, 'InvalidBody', field ? `${field}: ${message}` : message, field || undefined);
}
