/**
 * A tiny ReplicaModel for the data-parallel runner's tests: y = x·w + b with a mean squared
 * error, whose exact gradient is easy to compute by hand. Built with fixed weights so every
 * replica (and the hand computation) starts from the same point.
 */
import * as tf from '@tensorflow/tfjs';
import { evenRanges, type ReplicaModel } from '../../src/ml/train/parallel/replica.js';

export interface LinearSpec { inputs: number; w0: number[]; b0: number }
export interface LinearBatch { x: Float32Array; t: Float32Array }

export const linearReplicaModel: ReplicaModel<LinearSpec, LinearBatch> = {
  build(spec) {
    const w = tf.variable(tf.tensor2d(spec.w0, [spec.inputs, 1]));
    const b = tf.variable(tf.scalar(spec.b0));
    return {
      variables: [w, b],
      loss(batch) {
        const n = batch.t.length;
        const y = tf.add(tf.matMul(tf.tensor2d(batch.x, [n, spec.inputs]), w), b).reshape([n]);
        const err = tf.sub(y, tf.tensor1d(batch.t));
        return { loss: tf.mean(tf.square(err)) as tf.Scalar, sums: { count: tf.scalar(n) } };
      },
      dispose: () => { w.dispose(); b.dispose(); },
    };
  },
  split(batch, parts) {
    const n = batch.t.length;
    const d = batch.x.length / n;
    return evenRanges(n, parts).map(([a, z]) => ({ batch: { x: batch.x.slice(a * d, z * d), t: batch.t.slice(a, z) }, weight: (z - a) / n }));
  },
};
