/** Runs training in a worker_threads Worker so the main event loop never stalls. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CorruptArtifactError, OnnxExportMismatchError, OnnxMetadataError, UnsupportedLayerError } from '../onnx/errors.js';
import type { BackendLogger, BackendPreference } from './backend.js';
import { BaseModelMismatchError } from './model.js';
import { TrainingCancelledError, type EpochMetrics, type TrainingInput, type TrainingOutput } from './trainer.js';
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

/**
 * tsx's ESM register API, resolved from this package (not the cwd) via tsx's exports map:
 * require.resolve would pick the CommonJS build, whose register() cannot load .ts ESM.
 */
function tsxEsmApiUrl(from: string): string {
  const pkgPath = createRequire(from).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const target = pkg.exports['./esm/api']?.import?.default;
  if (!target) throw new Error(`cannot find tsx's ESM API in ${pkgPath}`);
  return new URL(target, pathToFileURL(pkgPath)).href;
}

/**
 * From dist/ the worker is the compiled worker.js. From the source tree it is worker.ts, loaded
 * through tsx. `execArgv: ['--import', 'tsx']` does not work on Node 20 (the hooks it registers
 * never apply to the worker's entry module: ERR_UNKNOWN_FILE_EXTENSION), so a two-line eval
 * bootstrap registers tsx's ESM API in the worker and then imports worker.ts.
 */
function startWorker(workerData: WorkerData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), { workerData });
  const tsxApi = tsxEsmApiUrl(here);
  const entry = new URL('./worker.ts', here).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

export function runTrainingInWorker(input: TrainingInput, opts: RunInWorkerOptions = {}): Promise<TrainingOutput> {
  if (opts.signal?.aborted) return Promise.reject(new TrainingCancelledError('training was cancelled before it started'));
  const logger = opts.logger ?? { info: (obj: object, msg?: string) => console.info(`[ml] ${msg ?? ''}`, obj) };
  const cancelFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelFlag);
  const worker = startWorker({ input, cancelFlag, backend: opts.backend ?? 'auto' });

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
