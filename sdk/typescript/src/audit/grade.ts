export type Grade = 'A' | 'B' | 'C' | 'D' | 'F';

/** A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 45, F below. */
export function gradeFor(score: number): Grade {
  if (score >= 90) return 'A';
  if (score >= 75) return 'B';
  if (score >= 60) return 'C';
  if (score >= 45) return 'D';
  return 'F';
}
