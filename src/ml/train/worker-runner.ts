/**
 * The worker_threads plumbing shared by the classifier and detector trainers: start a worker on a
 * training entry module (compiled .js, or .ts through tsx from the source tree), relay progress and
 * log lines, cancel through a SharedArrayBuffer flag, and rebuild the worker's errors here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { CorruptArtifactError, OnnxExportMismatchError, OnnxMetadataError, UnsupportedLayerError } from '../onnx/errors.js';
import type { BackendLogger, BackendPreference } from './backend.js';
import { BaseModelMismatchError } from './model.js';
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
}

export interface TrainingWorkerData<I> {
  input: I;
  cancelFlag: SharedArrayBuffer;
  backend: BackendPreference;
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
 * Starts `<entry>.js` next to `callerUrl`, or `<entry>.ts` when the caller runs from source.
 * `execArgv: ['--import', 'tsx']` does not work on Node 20 (the hooks it registers never apply to
 * the worker's entry module: ERR_UNKNOWN_FILE_EXTENSION), so a two-line eval bootstrap registers
 * tsx's ESM API in the worker and then imports the .ts entry.
 */
function startWorker(callerUrl: string, entry: string, data: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${entry}.js`, callerUrl), { workerData: data });
  const tsxApi = tsxEsmApiUrl(callerUrl);
  const url = new URL(`./${entry}.ts`, callerUrl).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

/** Runs the training entry `<entry>` (a module that calls `serveTraining`) in a worker thread. */
export function runTrainingWorker<I, P, O>(callerUrl: string, entry: string, input: I, opts: WorkerRunOptions<P> = {}): Promise<O> {
  if (opts.signal?.aborted) return Promise.reject(new TrainingCancelledError('training was cancelled before it started'));
  const logger = opts.logger ?? { info: (obj: object, msg?: string) => console.info(`[ml] ${msg ?? ''}`, obj) };
  const cancelFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelFlag);
  const worker = startWorker(callerUrl, entry, { input, cancelFlag, backend: opts.backend ?? 'auto' } satisfies TrainingWorkerData<I>);

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
