import { describe, expect, it } from 'vitest';
import { findJsonProblem, MAX_JSON_DEPTH, textProblem } from './json-problem.js';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

describe('findJsonProblem', () => {
  it('accepts ordinary documents, unicode included', () => {
    expect(findJsonProblem({ a: [1, 'é — 🚀', null, true, { b: 'x' }] })).toBeUndefined();
    expect(findJsonProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
  });

  it('names the path of a NUL character', () => {
    expect(findJsonProblem({ health: { checks: [{ id: 'ok' }, { id: 'a\u0000b' }] } })).toEqual({
      path: ['health', 'checks', 1, 'id'],
      message: 'contains a NUL character (U+0000)',
    });
  });

  it('names the path of a lone surrogate, in values and keys', () => {
    expect(findJsonProblem({ gap: { note: 'x\ud800' } })?.path).toEqual(['gap', 'note']);
    expect(findJsonProblem({ gap: { 'k\udc00': 1 } })).toEqual({
      path: ['gap'],
      message: 'has a key that contains a lone surrogate (not valid Unicode)',
    });
  });

  it('refuses nesting past the limit without exhausting the stack', () => {
    const problem = findJsonProblem(nested(100_000));
    expect(problem?.message).toBe(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    expect(problem?.path).toHaveLength(MAX_JSON_DEPTH);
  });

  it('textProblem passes well-formed text', () => {
    expect(textProblem('plain')).toBeUndefined();
    expect(textProblem('\ud83d\ude80')).toBeUndefined();
  });
});
