/**
 * Where the SDK reports background failures (push mode, auto-registration). Seed 000: "Push errors are logged
 * to console.error", so users' log pipelines already capture them. Callers redact secrets first.
 */
export function logError(message: string): void {
  // eslint-disable-next-line no-console
  console.error(message);
}
