// Job handlers register here; the worker defines them on Agenda and schedules the recurring ones.
import type { Agenda, BackoffStrategy, Job } from 'agenda';
import type { Metrics } from '../../app/metrics.js';
import type { JobName } from '../../services/ports/job-queue.js';

export interface JobOptions {
  concurrency?: number;
  lockLifetime?: number;
  /** Retry policy (null from the strategy = no retry). */
  backoff?: BackoffStrategy;
}

export interface JobRegistry {
  define<T = any>(name: JobName, handler: (job: Job<T>) => Promise<void>, options?: JobOptions): void;
  every(interval: string, name: JobName): void;
}

/** Every handler is timed (assay_job_duration_seconds, assay_job_failures_total) when metrics are given. */
export function agendaRegistry(agenda: Agenda, metrics?: Metrics): JobRegistry & { scheduleRecurring(): Promise<void> } {
  const recurring: [string, JobName][] = [];
  return {
    define(name, handler, options) {
      const run = metrics ? (job: Job<any>) => metrics.timeJob(name, () => handler(job)) : handler;
      agenda.define(name, run, { concurrency: options?.concurrency, lockLifetime: options?.lockLifetime, backoff: options?.backoff });
    },
    every(interval, name) {
      recurring.push([interval, name]);
    },
    async scheduleRecurring() {
      for (const [interval, name] of recurring) await agenda.every(interval, name);
    },
  };
}
