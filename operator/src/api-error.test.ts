import { describe, expect, it } from 'vitest';
import { describeError, isConflict } from './api-error.js';

describe('describeError', () => {
  it('reduces a client-node ApiException to status, reason and the apiserver message', () => {
    const err = Object.assign(new Error('HTTP-Code: 409\nMessage: Unknown API Status Code!\nBody: ...'), {
      code: 409,
      body: JSON.stringify({ kind: 'Status', reason: 'Conflict', message: 'the object has been modified' }),
    });
    expect(describeError(err)).toBe('409 Conflict: the object has been modified');
    expect(isConflict(err)).toBe(true);
    expect(describeError(new Error('fetch failed'))).toBe('fetch failed');
  });
});
