import type { z } from 'zod';

/**
 * A constraint across fields of one object, written once: `check` validates it in the SDK and `cel` is the
 * same rule for the CRD (x-kubernetes-validations), so `agentspec validate` and `kubectl apply` agree.
 */
export interface CrossFieldRule<T> {
  check: (value: T) => boolean;
  /** CEL over `self` (the object), for the apiserver. */
  cel: string;
  message: string;
  /** Field the message is about, relative to the object (reported in the error path). */
  field?: string;
}

export function withRules<S extends z.ZodType>(schema: S, rules: CrossFieldRule<z.output<S>>[]): S {
  const checked = schema.superRefine((value, ctx) => {
    for (const rule of rules) {
      if (!rule.check(value)) {
        ctx.addIssue({ code: 'custom', message: rule.message, path: rule.field ? [rule.field] : [] });
      }
    }
  });
  return checked.meta({
    'x-kubernetes-validations': rules.map((r) => ({
      rule: r.cel,
      message: r.message,
      ...(r.field ? { fieldPath: `.${r.field}` } : {}),
    })),
  }) as unknown as S;
}
