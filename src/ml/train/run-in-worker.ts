/** Runs classifier training in a worker_threads Worker so the main event loop never stalls. */
import { buffersOf } from './spawn-worker.js';
import type { EpochMetrics, TrainingInput, TrainingOutput } from './trainer.js';
import { runTrainingWorker, type WorkerRunOptions } from './worker-runner.js';

export { TrainingWorkerError, defaultReplicas } from './worker-runner.js';

export interface RunInWorkerOptions extends WorkerRunOptions<EpochMetrics> {
  /**
   * Move the crop arrays into the worker instead of copying them (they are unusable here
   * afterwards): the dataset is then held once, not twice.
   */
  transferInputs?: boolean;
}

export function runTrainingInWorker(input: TrainingInput, opts: RunInWorkerOptions = {}): Promise<TrainingOutput> {
  const transfer = opts.transferInputs ? buffersOf([input.train.x, input.train.y, input.val.x, input.val.y]) : [];
  return runTrainingWorker<TrainingInput, EpochMetrics, TrainingOutput>(import.meta.url, 'worker', input, opts, transfer);
}
