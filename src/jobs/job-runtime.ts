// Shared job mechanics: retry only transient errors (with backoff), and a heartbeat that keeps
// a long job's lock fresh so no other worker takes it over while this one is alive.
import type { BackoffStrategy, Job } from 'agenda';

/** Transient = worth retrying later (network, 5xx, database briefly down). Marked by `transient: true`. */
export function isTransient(err: unknown): boolean {
  return !!err && typeof err === 'object' && (err as { transient?: unknown }).transient === true;
}

export const MAX_TRANSIENT_RETRIES = 3;

/** Exponential backoff (delay, 4×delay, 16×delay) for transient errors; none for the rest. */
export function retryTransient(delayMs = 5_000, maxRetries = MAX_TRANSIENT_RETRIES): BackoffStrategy {
  return ({ attempt, error }) => (isTransient(error) && attempt <= maxRetries ? delayMs * 4 ** (attempt - 1) : null);
}

/** Retries already used by this job run (0 on the first run). */
export function failuresSoFar(job: Job<unknown>): number {
  return Number(job.attrs.failCount ?? 0);
}

/** Runs fn while touching the job every `everyMs`; the lock lifetime must be a few times longer. */
export async function withHeartbeat<T>(job: Job<unknown>, everyMs: number, fn: () => Promise<T>, onError?: (err: unknown) => void): Promise<T> {
  const timer = setInterval(() => {
    job.touch().catch((err) => onError?.(err));
  }, everyMs);
  timer.unref();
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
