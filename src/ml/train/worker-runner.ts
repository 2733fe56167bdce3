/**
 * The worker_threads plumbing shared by the classifier and detector trainers: start a worker on a
 * training entry module (spawn-worker.ts: compiled .js, or .ts through tsx), relay progress and
 * log lines, cancel through a SharedArrayBuffer flag, and rebuild the worker's errors here.
 */
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { CorruptArtifactError, OnnxExportMismatchError, OnnxMetadataError, UnsupportedLayerError } from '../onnx/errors.js';
import type { BackendLogger, BackendPreference } from './backend.js';
import { BaseModelMismatchError } from './model.js';
import { siblingModule, startModuleWorker } from './spawn-worker.js';
import { TrainingCancelledError } from './trainer.js';

export interface WorkerRunOptions<P> {
  onProgress?: (m: P) => void;
  /** Aborting cancels training between batches; the promise rejects with TrainingCancelledError. */
  signal?: AbortSignal;
  backend?: BackendPreference;
  /** Receives the worker's log lines (backend choice); defaults to console.info. */
  logger?: BackendLogger;
  /** After cancelling, how long to wait for the worker to stop on its own before terminating it. */
  cancelGraceMs?: number;
  /** Data-parallel replicas (worker threads); default one per core. */
  replicas?: number;
}

/** One replica per core the process may use. */
export function defaultReplicas(): number {
  return Math.max(1, os.availableParallelism());
}

export interface TrainingWorkerData<I> {
  input: I;
  cancelFlag: SharedArrayBuffer;
  backend: BackendPreference;
  replicas: number;
}

export type TrainingWorkerMessage<P, O> =
  | { type: 'progress'; metrics: P }
  | { type: 'log'; obj: object; msg?: string }
  | { type: 'done'; output: O }
  | { type: 'error'; name: string; message: string; stack?: string; maxAbsDiff?: number };

/** Error from the worker, rebuilt in this thread with its original name and stack. */
export class TrainingWorkerError extends Error {
  constructor(readonly originalName: string, message: string, readonly workerStack?: string) {
    super(`${originalName}: ${message}`);
    this.name = 'TrainingWorkerError';
  }
}

/** Re-creates the worker's error in this thread, as the same class when it is one of ours. */
function rebuildError(m: { name: string; message: string; stack?: string; maxAbsDiff?: number }): Error {
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

/**
 * Runs the training entry `<entry>` next to `callerUrl` (a module that calls `serveTraining`) in a
 * worker thread. `transfer` moves input buffers instead of copying them.
 */
export function runTrainingWorker<I, P, O>(callerUrl: string, entry: string, input: I, opts: WorkerRunOptions<P> = {}, transfer: ArrayBuffer[] = []): Promise<O> {
  if (opts.signal?.aborted) return Promise.reject(new TrainingCancelledError('training was cancelled before it started'));
  const logger = opts.logger ?? { info: (obj: object, msg?: string) => console.info(`[ml] ${msg ?? ''}`, obj) };
  const cancelFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelFlag);
  const workerData: TrainingWorkerData<I> = { input, cancelFlag, backend: opts.backend ?? 'auto', replicas: opts.replicas ?? defaultReplicas() };
  const worker = startModuleWorker(siblingModule(callerUrl, entry), { workerData, transferList: transfer });

  return new Promise<O>((resolve, reject) => {
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

    worker.on('message', (m: TrainingWorkerMessage<P, O>) => {
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

export interface ServeCallbacks<P> {
  backend: BackendPreference;
  replicas: number;
  shouldCancel: () => boolean;
  onProgress: (m: P) => void;
  logger: BackendLogger;
}

/** The worker side: runs `train` on the worker's input and posts progress, logs and the result (its ONNX buffer transferred). */
export async function serveTraining<I, P, O extends { onnx: Uint8Array }>(train: (input: I, cb: ServeCallbacks<P>) => Promise<O>): Promise<void> {
  if (!parentPort) throw new Error('a training worker entry must be started as a worker thread (see worker-runner.ts)');
  const port = parentPort;
  const data = workerData as TrainingWorkerData<I>;
  const flag = new Int32Array(data.cancelFlag);
  const post = (m: TrainingWorkerMessage<P, O>, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  try {
    const output = await train(data.input, {
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
}
