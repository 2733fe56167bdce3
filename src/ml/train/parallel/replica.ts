/**
 * What a model must provide to be trained data-parallel (see runner.ts): how to build a replica,
 * its loss on a batch, and how to cut a batch into shards. A batch is a plain object whose
 * typed arrays cross threads; everything else in it must be structured-cloneable.
 * Not tied to the classifier: the detector provides the same three things.
 */
import type * as tf from '@tensorflow/tfjs';

export interface StepLoss {
  /** The loss whose gradient is taken (a mean over the shard, or whatever `split` weights match). */
  loss: tf.Scalar;
  /** Extra figures summed over shards (e.g. correct predictions); not differentiated. */
  sums?: Record<string, tf.Scalar>;
}

export interface Replica<Batch> {
  /** Trainable variables; their order is the layout of the flat gradient vector, the same in every replica. */
  variables: tf.Variable[];
  loss(batch: Batch): StepLoss;
  dispose(): void;
}

export interface Shard<Batch> {
  batch: Batch;
  /** Σ weight_r · ∇loss(shard_r) must equal ∇loss(whole batch): n_r / n for a mean loss. */
  weight: number;
}

export interface ReplicaModel<Spec, Batch> {
  /** Builds a replica with any weights: the runner copies the first replica's weights into the others. */
  build(spec: Spec): Replica<Batch>;
  /** At most `parts` non-empty shards, in order. */
  split(batch: Batch, parts: number): Shard<Batch>[];
}

/** Where a worker thread finds a ReplicaModel: a module URL and the name it is exported under. */
export interface ReplicaModelRef {
  moduleUrl: string;
  exportName: string;
}

/** Even contiguous ranges of `n` rows for at most `parts` shards, none empty. */
export function evenRanges(n: number, parts: number): Array<[number, number]> {
  const k = Math.max(1, Math.min(parts, n));
  const out: Array<[number, number]> = [];
  for (let r = 0; r < k; r++) out.push([Math.floor((r * n) / k), Math.floor(((r + 1) * n) / k)]);
  return out;
}
