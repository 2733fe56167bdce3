/** worker_threads entry for detector training (see ../worker-runner.ts and run-in-worker.ts). */
import { serveTraining } from '../worker-runner.js';
import { trainDetector, type DetectorEpochMetrics, type DetectorTrainingInput, type DetectorTrainingOutput } from './trainer.js';

await serveTraining<DetectorTrainingInput, DetectorEpochMetrics, DetectorTrainingOutput>((input, cb) => trainDetector(input, cb));
