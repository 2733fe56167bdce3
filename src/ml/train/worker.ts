/**
 * worker_threads entry: runs trainAndExport off the main thread so the event loop (Slack acks)
 * never stalls. Cancellation arrives through a SharedArrayBuffer flag, which the trainer can read
 * synchronously between batches even while this thread is busy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { trainAndExport, type TrainingInput } from './trainer.js';
import type { BackendPreference } from './backend.js';

export interface WorkerData {
  input: TrainingInput;
  cancelFlag: SharedArrayBuffer;
  backend: BackendPreference;
  replicas: number;
}

export type WorkerMessage =
  | { type: 'progress'; metrics: import('./trainer.js').EpochMetrics }
  | { type: 'log'; obj: object; msg?: string }
  | { type: 'done'; output: import('./trainer.js').TrainingOutput }
  | { type: 'error'; name: string; message: string; stack?: string; maxAbsDiff?: number };

if (!parentPort) throw new Error('worker.ts must be started as a worker thread (see run-in-worker.ts)');
const port = parentPort;
const data = workerData as WorkerData;
const flag = new Int32Array(data.cancelFlag);
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  const output = await trainAndExport(data.input, {
    backend: data.backend,
    replicas: data.replicas,
    shouldCancel: () => Atomics.load(flag, 0) === 1,
    onProgress: (metrics) => post({ type: 'progress', metrics }),
    logger: { info: (obj, msg) => post({ type: 'log', obj, msg }) },
  });
  post({ type: 'done', output }, [output.onnx.buffer as ArrayBuffer]);
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  const maxAbsDiff = (e as { maxAbsDiff?: number }).maxAbsDiff;
  post({ type: 'error', name: e.name, message: e.message, stack: e.stack, ...(maxAbsDiff !== undefined ? { maxAbsDiff } : {}) });
}
