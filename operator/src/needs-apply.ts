import type { KubernetesObject } from '@kubernetes/client-node';
/** Annotation carrying a hash of what the operator applied: a field dropped from the desired object changes it. */
export const DESIRED_HASH_ANNOTATION = 'agentspec.io/desired-hash';

/** Every field of `desired` has the same value in `live` (lists: same length, element by element). */
export function containsFields(desired: unknown, live: unknown): boolean {
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => containsFields(d, live[i]));
  }
  if (desired !== null && typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
    const liveRecord = live as Record<string, unknown>;
    return Object.entries(desired).every(([key, value]) => containsFields(value, liveRecord[key]));
  }
  return desired === live;
}

/**
 * Whether applying `desired` would change nothing in `live`: the live object carries the same desired-hash (so
 * nothing was dropped from what we apply) and every field we set still has our value (so no hand edit to revert).
 * When in doubt the answer is false and the operator applies; a no-op apply is harmless, only not free.
 */
export function isApplied(
  desired: { metadata: { annotations?: Record<string, string> } },
  live: KubernetesObject,
): boolean {
  const annotations = desired.metadata.annotations ?? {};
  const liveAnnotations = live.metadata?.annotations ?? {};
  const hash = annotations[DESIRED_HASH_ANNOTATION];
  return hash !== undefined && liveAnnotations[DESIRED_HASH_ANNOTATION] === hash && containsFields(desired, live);
}
