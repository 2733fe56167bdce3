// Job handlers register here; the worker defines them on Agenda and schedules the recurring ones.
import type { Agenda, BackoffStrategy, Job } from 'agenda';
import type { JobName } from '../names.js';

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

export function agendaRegistry(agenda: Agenda): JobRegistry & { scheduleRecurring(): Promise<void> } {
  const recurring: [string, JobName][] = [];
  return {
    define(name, handler, options) {
      agenda.define(name, handler, { concurrency: options?.concurrency, lockLifetime: options?.lockLifetime, backoff: options?.backoff });
    },
    every(interval, name) {
      recurring.push([interval, name]);
    },
    async scheduleRecurring() {
      for (const [interval, name] of recurring) await agenda.every(interval, name);
    },
  };
}
