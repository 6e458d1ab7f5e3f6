import type { V1Pod } from '@kubernetes/client-node';
import { decideInjection, type InjectOptions } from './inject.js';

export type AdmissionOutcome = 'injected' | 'unchanged' | 'skipped' | 'invalid' | 'error';

export interface AdmissionResult {
  httpStatus: 200 | 400;
  body: unknown;
  outcome: AdmissionOutcome;
  /** Variables added by the patch. */
  injected: number;
  /** Why the request was invalid, or the internal error (admitted unchanged). */
  detail?: string;
}

/** A request the webhook cannot read: answered 400 with a message naming what is wrong. */
class InvalidReview extends Error {}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function readReview(body: unknown): { uid: string; request: Record<string, unknown> } {
  if (!isObject(body)) throw new InvalidReview('the body must be an AdmissionReview JSON object');
  if (body['apiVersion'] !== 'admission.k8s.io/v1' || body['kind'] !== 'AdmissionReview') {
    throw new InvalidReview('apiVersion/kind: expected admission.k8s.io/v1 AdmissionReview');
  }
  const request = body['request'];
  if (!isObject(request)) throw new InvalidReview('request: missing');
  const uid = request['uid'];
  if (typeof uid !== 'string' || uid === '') throw new InvalidReview('request.uid: missing');
  return { uid, request };
}

const respond = (uid: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  response: { uid, allowed: true, ...extra },
});

/**
 * Answers one AdmissionReview. Only Pod CREATE is mutated; everything else, and any internal error, is admitted
 * unchanged: the webhook never blocks a pod. Pure: no side effects, so dry-run requests are safe.
 */
export function admit(body: unknown, options: InjectOptions): AdmissionResult {
  let review: { uid: string; request: Record<string, unknown> };
  try {
    review = readReview(body);
  } catch (err) {
    if (!(err instanceof InvalidReview)) throw err;
    return {
      httpStatus: 400,
      body: { error: 'BadRequest', message: err.message },
      outcome: 'invalid',
      injected: 0,
      detail: err.message,
    };
  }
  const { uid, request } = review;
  try {
    const kind = isObject(request['kind']) ? request['kind'] : {};
    if (kind['kind'] !== 'Pod' || (kind['group'] ?? '') !== '' || request['operation'] !== 'CREATE') {
      return { httpStatus: 200, body: respond(uid), outcome: 'skipped', injected: 0 };
    }
    const pod = request['object'];
    if (!isObject(pod)) {
      const message = 'request.object: a Pod CREATE must carry the Pod';
      return {
        httpStatus: 400,
        body: { error: 'BadRequest', message },
        outcome: 'invalid',
        injected: 0,
        detail: message,
      };
    }
    const namespace =
      typeof request['namespace'] === 'string'
        ? request['namespace']
        : String((pod['metadata'] as { namespace?: string } | undefined)?.namespace ?? '');
    const decision = decideInjection(pod as V1Pod, namespace, options);
    if (!decision.inject) return { httpStatus: 200, body: respond(uid), outcome: 'skipped', injected: 0 };
    if (decision.patch.length === 0) return { httpStatus: 200, body: respond(uid), outcome: 'unchanged', injected: 0 };
    const patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
    return {
      httpStatus: 200,
      body: respond(uid, { patchType: 'JSONPatch', patch }),
      outcome: 'injected',
      injected: decision.injected,
    };
  } catch (err) {
    return { httpStatus: 200, body: respond(uid), outcome: 'error', injected: 0, detail: (err as Error).message };
  }
}
