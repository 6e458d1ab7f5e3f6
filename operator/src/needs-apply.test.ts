import { describe, expect, it } from 'vitest';
import { containsFields, DESIRED_HASH_ANNOTATION, isApplied } from './needs-apply.js';

const desired = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'coach', annotations: { [DESIRED_HASH_ANNOTATION]: 'h1' } },
  spec: {
    replicas: 1,
    template: { spec: { containers: [{ name: 'agent', image: 'a:1', ports: [{ containerPort: 8000 }] }] } },
  },
};
const live = structuredClone({
  ...desired,
  metadata: { ...desired.metadata, uid: 'u', resourceVersion: '7' },
  spec: { ...desired.spec, strategy: { type: 'RollingUpdate' } },
  status: { replicas: 1 },
});

describe('isApplied', () => {
  it('is true when the live object holds every field we set (plus defaults and status)', () => {
    expect(isApplied(desired, live)).toBe(true);
  });

  it('is false after a hand edit of a field we own', () => {
    const edited = structuredClone(live);
    edited.spec.replicas = 5;
    expect(isApplied(desired, edited)).toBe(false);
    const image = structuredClone(live);
    image.spec.template.spec.containers[0]!.image = 'a:2';
    expect(isApplied(desired, image)).toBe(false);
  });

  it('is false when a list grew or shrank', () => {
    const extra = structuredClone(live);
    extra.spec.template.spec.containers.push({ name: 'x', image: 'x', ports: [] });
    expect(isApplied(desired, extra)).toBe(false);
  });

  it('is false when the desired hash differs (a field was dropped from what we apply)', () => {
    const older = structuredClone(live);
    older.metadata.annotations[DESIRED_HASH_ANNOTATION] = 'h0';
    expect(isApplied(desired, older)).toBe(false);
  });

  it('compares scalars strictly', () => {
    expect(containsFields({ a: 1 }, { a: '1' })).toBe(false);
    expect(containsFields({ a: null }, { a: null })).toBe(true);
    expect(containsFields({ a: {} }, { a: [] })).toBe(false);
  });
});
