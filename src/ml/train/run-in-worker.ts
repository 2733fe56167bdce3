/** Runs training in a worker_threads Worker so the main event loop never stalls. */
import os from 'node:os';
import { CorruptArtifactError, OnnxExportMismatchError, OnnxMetadataError, UnsupportedLayerError } from '../onnx/errors.js';
import type { BackendLogger, BackendPreference } from './backend.js';
import { BaseModelMismatchError } from './model.js';
import { TrainingCancelledError, type EpochMetrics, type TrainingInput, type TrainingOutput } from './trainer.js';
import { buffersOf, siblingModule, startModuleWorker } from './spawn-worker.js';
import type { WorkerData, WorkerMessage } from './worker.js';

export interface RunInWorkerOptions {
  onProgress?: (m: EpochMetrics) => void;
  /** Aborting cancels training between batches; the promise rejects with TrainingCancelledError. */
  signal?: AbortSignal;
  backend?: BackendPreference;
  /** Receives the worker's log lines (backend choice); defaults to console.info. */
  logger?: BackendLogger;
  /** After cancelling, how long to wait for the worker to stop on its own before terminating it. */
  cancelGraceMs?: number;
  /** Data-parallel replicas (worker threads); default one per core. */
  replicas?: number;
  /**
   * Move the crop arrays into the worker instead of copying them (they are unusable here
   * afterwards): the dataset is then held once, not twice.
   */
  transferInputs?: boolean;
}

/** One replica per core the process may use. */
export function defaultReplicas(): number {
  return Math.max(1, os.availableParallelism());
}

/** Error from the worker, rebuilt in this thread with its original name and stack. */
export class TrainingWorkerError extends Error {
  constructor(readonly originalName: string, message: string, readonly workerStack?: string) {
    super(`${originalName}: ${message}`);
    this.name = 'TrainingWorkerError';
  }
}

/** Re-creates the worker's error in this thread, as the same class when it is one of ours. */
function rebuildError(m: Extract<WorkerMessage, { type: 'error' }>): Error {
  const known: Record<string, () => Error> = {
    TrainingCancelledError: () => new TrainingCancelledError(m.message),
    OnnxExportMismatchError: () => new OnnxExportMismatchError(m.message, m.maxAbsDiff ?? Number.NaN),
    BaseModelMismatchError: () => new BaseModelMismatchError(m.message),
    UnsupportedLayerError: () => new UnsupportedLayerError(m.message),
    CorruptArtifactError: () => new CorruptArtifactError(m.message),
    OnnxMetadataError: () => new OnnxMetadataError(m.message),
  };
  const err = known[m.name]?.() ?? new TrainingWorkerError(m.name, m.message, m.stack);
  if (m.stack) err.stack = m.stack;
  return err;
}

export function runTrainingInWorker(input: TrainingInput, opts: RunInWorkerOptions = {}): Promise<TrainingOutput> {
  if (opts.signal?.aborted) return Promise.reject(new TrainingCancelledError('training was cancelled before it started'));
  const logger = opts.logger ?? { info: (obj: object, msg?: string) => console.info(`[ml] ${msg ?? ''}`, obj) };
  const cancelFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelFlag);
  const workerData: WorkerData = { input, cancelFlag, backend: opts.backend ?? 'auto', replicas: opts.replicas ?? defaultReplicas() };
  const transferList = opts.transferInputs ? buffersOf([input.train.x, input.train.y, input.val.x, input.val.y]) : [];
  const worker = startModuleWorker(siblingModule(import.meta.url, 'worker'), { workerData, transferList });

  return new Promise<TrainingOutput>((resolve, reject) => {
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      void worker.terminate();
      fn();
    };
    const onAbort = () => {
      Atomics.store(flag, 0, 1);
      // The trainer checks the flag before every batch; the export step at the end is not interruptible.
      killTimer = setTimeout(() => finish(() => reject(new TrainingCancelledError('training was cancelled (worker terminated)'))), opts.cancelGraceMs ?? 30_000);
      killTimer.unref();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') opts.onProgress?.(m.metrics);
      else if (m.type === 'log') logger.info(m.obj, m.msg);
      else if (m.type === 'done') {
        // Cancelled while exporting: the caller asked to cancel, so honour that over the late result.
        finish(() => (Atomics.load(flag, 0) === 1 ? reject(new TrainingCancelledError('training was cancelled')) : resolve(m.output)));
      } else if (m.type === 'error') finish(() => reject(rebuildError(m)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`training worker exited with code ${code} before reporting a result`))));
  });
}
