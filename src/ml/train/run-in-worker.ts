/** Runs classifier training in a worker_threads Worker so the main event loop never stalls. */
import type { EpochMetrics, TrainingInput, TrainingOutput } from './trainer.js';
import { runTrainingWorker, type WorkerRunOptions } from './worker-runner.js';

export { TrainingWorkerError } from './worker-runner.js';

export type RunInWorkerOptions = WorkerRunOptions<EpochMetrics>;

export function runTrainingInWorker(input: TrainingInput, opts: RunInWorkerOptions = {}): Promise<TrainingOutput> {
  return runTrainingWorker<TrainingInput, EpochMetrics, TrainingOutput>(import.meta.url, 'worker', input, opts);
}
