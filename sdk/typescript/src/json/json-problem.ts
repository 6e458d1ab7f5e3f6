/**
 * Checks a parsed JSON value for what a JSON parser accepts but storage and headers refuse: NUL characters (PostgreSQL
 * `jsonb` and `text` cannot hold U+0000), lone surrogates (not Unicode: `jsonb` refuses their escapes, and they cannot
 * be encoded as UTF-8), and nesting deeper than a limit (recursive code further on — validation, serialisation,
 * drivers — would otherwise exhaust the stack). The walk is iterative, so any depth is safe to check.
 */

/** The deepest nesting accepted in a JSON body (objects and arrays, the top level counting as 1). */
export const MAX_JSON_DEPTH = 64;

export interface JsonProblem {
  /** Where the problem is, as object keys and array indexes from the top. */
  path: (string | number)[];
  message: string;
}

/** Why a string cannot be stored or sent as UTF-8 text, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (!text.isWellFormed()) return 'contains a lone surrogate (not valid Unicode)';
  return undefined;
}

/** The first problem found in `value`, or undefined when it is safe to store. */
export function findJsonProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) return { path, message: problem };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (path.length >= maxDepth) return { path, message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], path: [...path, i] });
      continue;
    }
    const keys = Object.keys(current);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const keyProblem = textProblem(key);
      if (keyProblem) return { path, message: `has a key that ${keyProblem}` };
      stack.push({ value: (current as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return undefined;
}
