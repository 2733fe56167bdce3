/**
 * Runs detector training (train → export → parity check) in a worker thread, with the same
 * progress / cancel / replicas shape as the classifier's runTrainingInWorker. The sets' buffers
 * are copied (the caller keeps them); they are a few MB at 160 px.
 */
import { runTrainingWorker, type WorkerRunOptions } from '../worker-runner.js';
import type { DetectorEpochMetrics, DetectorTrainingInput, DetectorTrainingOutput } from './trainer.js';

export type RunDetectorInWorkerOptions = WorkerRunOptions<DetectorEpochMetrics>;

export function runDetectorTrainingInWorker(input: DetectorTrainingInput, opts: RunDetectorInWorkerOptions = {}): Promise<DetectorTrainingOutput> {
  return runTrainingWorker<DetectorTrainingInput, DetectorEpochMetrics, DetectorTrainingOutput>(import.meta.url, 'worker', input, opts);
}
