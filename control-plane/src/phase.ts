import { gradeFor, type Grade } from '@agentspec/sdk';

export type Phase = 'Healthy' | 'Degraded' | 'Unhealthy' | 'Unknown';

/** healthy/ready → Healthy, degraded → Degraded, unhealthy/unavailable → Unhealthy, otherwise Unknown. */
export function phaseOf(healthStatus: string | undefined): Phase {
  switch (healthStatus) {
    case 'healthy':
    case 'ready':
      return 'Healthy';
    case 'degraded':
      return 'Degraded';
    case 'unhealthy':
    case 'unavailable':
    case 'not-ready':
      return 'Unhealthy';
    default:
      return 'Unknown';
  }
}

export function gradeOf(score: number | undefined): Grade | undefined {
  return score === undefined ? undefined : gradeFor(score);
}

/** Worst first: an agent's phase is its worst instance's. */
export const PHASE_ORDER: readonly Phase[] = ['Unhealthy', 'Degraded', 'Unknown', 'Healthy'];
