/**
 * worker_threads entry: runs trainAndExport off the main thread so the event loop (Slack acks)
 * never stalls. Cancellation arrives through a SharedArrayBuffer flag, which the trainer can read
 * synchronously between batches even while this thread is busy (see worker-runner.ts).
 */
import { trainAndExport, type EpochMetrics, type TrainingInput, type TrainingOutput } from './trainer.js';
import { serveTraining } from './worker-runner.js';

await serveTraining<TrainingInput, EpochMetrics, TrainingOutput>((input, cb) => trainAndExport(input, cb));
