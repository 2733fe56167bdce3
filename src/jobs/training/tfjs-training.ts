// In-process training (trainer 'tfjs'): crops from the validated snapshot, training in a worker
// thread, progress per epoch into model_trainings, cancellation checked between batches.
import type { AppContext } from '../../app/context.js';
import { classifierHyperparametersSchema } from '../../ml/train/hyperparameters.js';
import type { TrainingOutput } from '../../ml/train/trainer.js';
import { DETECTOR_IMAGE_SIZE, detectRuntime, isDetectorImageSize, type DetectRuntime } from '../../domain/index.js';
import { readSnapshot, snapshotImageLoader } from '../../services/dataset-snapshot.js';
import { loadTrainingInputs, type TrainingRecord as ModelTraining } from '../../services/training-inputs.js';

/** How often the DB cancel flag is polled while training (the trainer checks the abort between batches). */
const CANCEL_POLL_MS = 1_000;

/** Aborts the returned controller when someone asks to cancel the training (polled; clear `poll` when done). */
function watchCancel(ctx: AppContext, trainingUid: string): { controller: AbortController; poll: NodeJS.Timeout } {
  const controller = new AbortController();
  const poll = setInterval(() => {
    ctx.services.trainingRuns.isCancelRequested(trainingUid)
      .then((cancel) => cancel && controller.abort())
      .catch((err) => ctx.logger.warn({ err }, 'cancel check failed'));
  }, CANCEL_POLL_MS);
  poll.unref();
  return { controller, poll };
}

export async function trainWithTfjs(ctx: AppContext, training: ModelTraining): Promise<TrainingOutput & { labels: string[] }> {
  const inputs = await loadTrainingInputs(ctx, training);
  const hyperparameters = classifierHyperparametersSchema.parse(inputs.params);
  // The ML stack (sharp, TF.js) loads when a training runs, not when the worker starts.
  const [{ buildCropSet }, { runTrainingInWorker }] = await Promise.all([import('../../ml/dataset/crops.js'), import('../../ml/train/run-in-worker.js')]);
  const snapshot = await readSnapshot(ctx.artifacts, inputs.snapshotPath);
  const labels = snapshot.labels;
  const crops = await buildCropSet(snapshot as never, snapshotImageLoader(ctx.artifacts), Object.fromEntries(labels.map((l, i) => [l, i])), hyperparameters.imageSize);

  const baseModelOnnx = inputs.baseModelOnnx;

  const { controller, poll } = watchCancel(ctx, training.uid);
  let progressWrites = Promise.resolve();
  try {
    const output = await runTrainingInWorker(
      { labels, train: crops.train, val: crops.val, hyperparameters, mode: baseModelOnnx ? 'new_version' : 'new_model', baseModelOnnx },
      {
        signal: controller.signal,
        cancelGraceMs: 10_000,
        replicas: ctx.config.trainingThreads,
        // The crops are not used here again: move them into the worker rather than hold them twice.
        transferInputs: true,
        logger: { info: (obj, msg) => ctx.logger.info(obj, msg) },
        onProgress: (m) => {
          // Serialised so epochs land in order; a cancel seen here stops the run between epochs.
          progressWrites = progressWrites
            .then(async () => {
              const cancel = await ctx.services.trainingRuns.recordEpoch(training.uid, { ...m, valLoss: m.valLoss ?? undefined, valAccuracy: m.valAccuracy ?? undefined });
              if (cancel) controller.abort();
              ctx.events.emit('training.progress', { trainingUid: training.uid, epoch: m.epoch, totalEpochs: m.totalEpochs, loss: m.loss, accuracy: m.accuracy, valLoss: m.valLoss ?? undefined, valAccuracy: m.valAccuracy ?? undefined, etaSeconds: m.etaSeconds });
            })
            .catch((err) => ctx.logger.warn({ err }, 'recording training progress failed'));
        },
      },
    );
    await progressWrites;
    return { ...output, labels };
  } finally {
    clearInterval(poll);
  }
}

export interface DetectorTrained {
  onnx: Uint8Array;
  labels: string[];
  runtime: DetectRuntime;
  fineTuned: boolean;
}

/**
 * In-process detector training (task 'detect'): letterboxed samples from the snapshot's boxes,
 * the detector trainer in a worker thread (progress per epoch, cancel between batches), fine-tuned
 * from the base model for new_version. The exported ONNX is read back with the same layout reader
 * the evaluation and the edges use; its runtime descriptor comes from that reading.
 */
export async function trainDetectorWithTfjs(ctx: AppContext, training: ModelTraining): Promise<DetectorTrained> {
  const inputs = await loadTrainingInputs(ctx, training);
  // TF.js loads in the worker only (the worker parses these again with the detector's full schema).
  const [{ buildDetectionSets }, { runDetectorTrainingInWorker }, { readDetectorInfo }] = await Promise.all([
    import('../../ml/train/detector/samples.js'),
    import('../../ml/train/detector/run-in-worker.js'),
    import('../../ml/detect/layout.js'),
  ]);
  const hyperparameters = classifierHyperparametersSchema.parse(inputs.params);
  if (!isDetectorImageSize(hyperparameters.imageSize)) {
    throw new Error(`a detector needs an image size that is a multiple of ${DETECTOR_IMAGE_SIZE.multipleOf}, at least ${DETECTOR_IMAGE_SIZE.min} (got ${hyperparameters.imageSize})`);
  }
  const snapshot = await readSnapshot(ctx.artifacts, inputs.snapshotPath);
  const labels = snapshot.labels;
  const sets = await buildDetectionSets(snapshot as never, snapshotImageLoader(ctx.artifacts), Object.fromEntries(labels.map((l, i) => [l, i])), hyperparameters.imageSize);
  if (sets.train.count === 0) throw new Error('the dataset has no training images with boxes of the model labels');

  const baseModelOnnx = inputs.baseModelOnnx;

  const { controller, poll } = watchCancel(ctx, training.uid);
  let progressWrites = Promise.resolve();
  try {
    const output = await runDetectorTrainingInWorker(
      { labels, train: sets.train, val: sets.val, hyperparameters, mode: baseModelOnnx ? 'new_version' : 'new_model', baseModelOnnx },
      {
        signal: controller.signal,
        cancelGraceMs: 10_000,
        replicas: ctx.config.trainingThreads,
        logger: { info: (obj, msg) => ctx.logger.info(obj, msg) },
        onProgress: (m) => {
          progressWrites = progressWrites
            .then(async () => {
              const cancel = await ctx.services.trainingRuns.recordEpoch(training.uid, { epoch: m.epoch, totalEpochs: m.totalEpochs, loss: m.loss, valLoss: m.valLoss ?? undefined, valMap50: m.valMap50 ?? undefined });
              if (cancel) controller.abort();
              ctx.events.emit('training.progress', { trainingUid: training.uid, epoch: m.epoch, totalEpochs: m.totalEpochs, loss: m.loss, valLoss: m.valLoss ?? undefined, etaSeconds: m.etaSeconds });
            })
            .catch((err) => ctx.logger.warn({ err }, 'recording training progress failed'));
        },
      },
    );
    await progressWrites;
    const info = readDetectorInfo(output.onnx);
    const runtime = detectRuntime({ inputSize: info.inputSize, classNames: info.names, candidates: info.candidates, inputName: info.inputName, outputName: info.outputName });
    return { onnx: output.onnx, labels: info.names, runtime, fineTuned: output.fineTuned };
  } finally {
    clearInterval(poll);
  }
}
