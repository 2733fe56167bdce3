/** The kit classifier as a ReplicaModel, so the data-parallel runner can train it. */
import * as tf from '@tensorflow/tfjs';
import { buildClassifier, type ClassifierSpec } from './model.js';
import { evenRanges, type Replica, type ReplicaModel, type ReplicaModelRef } from './parallel/replica.js';
import { siblingModule } from './spawn-worker.js';

export interface ClassifierBatch {
  /** n·S·S·3 floats, NHWC, 0..1. */
  x: Float32Array;
  /** n label indices. */
  y: Int32Array;
}

/** Mean softmax cross-entropy and the number of correct predictions, in training mode. */
export function classifierReplica(model: tf.LayersModel, spec: ClassifierSpec): Replica<ClassifierBatch> {
  const s = spec.imageSize;
  return {
    variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
    loss(batch) {
      const n = batch.y.length;
      const xs = tf.tensor4d(batch.x, [n, s, s, 3]);
      const ys = tf.tensor1d(batch.y, 'int32');
      const logits = model.apply(xs, { training: true }) as tf.Tensor2D;
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), ys), 'float32')) as tf.Scalar;
      return { loss: tf.losses.softmaxCrossEntropy(tf.oneHot(ys, spec.numClasses), logits) as tf.Scalar, sums: { hits } };
    },
    dispose: () => model.dispose(),
  };
}

export const classifierReplicaModel: ReplicaModel<ClassifierSpec, ClassifierBatch> = {
  build: (spec) => classifierReplica(buildClassifier(spec), spec),
  split(batch, parts) {
    const n = batch.y.length;
    const per = batch.x.length / Math.max(1, n);
    return evenRanges(n, parts).map(([a, b]) => ({
      batch: { x: batch.x.subarray(a * per, b * per), y: batch.y.subarray(a, b) },
      weight: (b - a) / n,
    }));
  },
};

export const classifierReplicaRef: ReplicaModelRef = {
  moduleUrl: siblingModule(import.meta.url, 'classifier-replica').href,
  exportName: 'classifierReplicaModel',
};
