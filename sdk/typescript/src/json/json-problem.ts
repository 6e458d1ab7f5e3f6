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

/** NUL or any surrogate (paired ones are fine: the checks below tell). */
// eslint-disable-next-line no-control-regex -- NUL is one of the characters looked for
const SUSPECT = /[\u0000\ud800-\udfff]/;

/** Why a string cannot be stored or sent as UTF-8 text, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (!SUSPECT.test(text)) return undefined; // one scan for the common case: no NUL, no surrogate at all
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (!text.isWellFormed()) return 'contains a lone surrogate (not valid Unicode)';
  return undefined;
}

/** The first problem found in `value`, or undefined when it is safe to store. */
export function findJsonProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  // Every value seen is a node: its parent's index and its key there, so a problem's path is built only when one is
  // found (copying the path into every node cost more than the checks on 64 KB bodies).
  const parents: number[] = [-1];
  const keys: (string | number)[] = [''];
  const depths: number[] = [0];
  const values: unknown[] = [value];
  const pathOf = (node: number): (string | number)[] => {
    const path: (string | number)[] = [];
    for (let n = node; n > 0; n = parents[n]!) path.push(keys[n]!);
    return path.reverse();
  };
  const stack: number[] = [0];
  const visit = (parent: number, key: string | number, child: unknown): void => {
    parents.push(parent);
    keys.push(key);
    depths.push(depths[parent]! + 1);
    values.push(child);
    stack.push(values.length - 1);
  };
  while (stack.length > 0) {
    const node = stack.pop()!;
    const current = values[node];
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) return { path: pathOf(node), message: problem };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depths[node]! >= maxDepth) return { path: pathOf(node), message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) visit(node, i, current[i]);
      continue;
    }
    const keyList = Object.keys(current);
    for (let i = keyList.length - 1; i >= 0; i--) {
      const key = keyList[i]!;
      const keyProblem = textProblem(key);
      if (keyProblem) return { path: pathOf(node), message: `has a key that ${keyProblem}` };
      visit(node, key, (current as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}
