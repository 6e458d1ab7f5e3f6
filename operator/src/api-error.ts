/**
 * One line for an error from client-node: `409 Conflict: <the apiserver's message>` instead of the exception's
 * multi-line dump of body and headers.
 */
export function describeError(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  if (typeof e?.code === 'number' && e.body !== undefined) {
    let status: { reason?: string; message?: string } = {};
    try {
      status = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as typeof status;
    } catch {
      status = {};
    }
    return `${e.code}${status.reason ? ` ${status.reason}` : ''}: ${status.message ?? e.message ?? 'request failed'}`;
  }
  return e?.message ?? String(err);
}

export const isConflict = (err: unknown): boolean => (err as { code?: number })?.code === 409;
