import * as tf from '@tensorflow/tfjs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { buildCropSet, type CropSet } from '../../../src/ml/dataset/crops.js';
import { selectBackend } from '../../../src/ml/train/backend.js';
import { DataParallelRunner } from '../../../src/ml/train/parallel/runner.js';
import { evenRanges } from '../../../src/ml/train/parallel/replica.js';
import { runTrainingInWorker } from '../../../src/ml/train/run-in-worker.js';
import { trainClassifier, type TrainingInput } from '../../../src/ml/train/trainer.js';
import { linearReplicaModel, type LinearSpec } from '../../helpers/linear-replica.js';
import { generateSyntheticKit } from '../../helpers/synthetic-kit.js';

const quiet = { info: () => undefined };
const linearRef = { moduleUrl: pathToFileURL(path.resolve('test/helpers/linear-replica.ts')).href, exportName: 'linearReplicaModel' };

beforeAll(async () => {
  await selectBackend('wasm', quiet);
});

describe('evenRanges', () => {
  it('cuts n rows into at most `parts` contiguous non-empty ranges', () => {
    expect(evenRanges(32, 2)).toEqual([[0, 16], [16, 32]]);
    expect(evenRanges(5, 2)).toEqual([[0, 2], [2, 5]]);
    expect(evenRanges(1, 4)).toEqual([[0, 1]]);
    expect(evenRanges(7, 3).map(([a, b]) => b - a)).toEqual([2, 2, 3]);
  });
});

describe('DataParallelRunner on a model with a known gradient', () => {
  // 5 rows over 2 replicas: shards of 2 and 3 rows, weights 2/5 and 3/5.
  const spec: LinearSpec = { inputs: 3, w0: [0.5, -1, 2], b0: 0.25 };
  const x = Float32Array.from([1, 2, 3, -1, 0.5, 2, 0, 1, -2, 3, 3, 1, -0.5, -1, 4]);
  const t = Float32Array.from([1, -2, 0.5, 3, 2]);

  /** d/dθ mean((x·w + b − t)²), in float64. */
  function exactGradient(w: number[], b: number): number[] {
    const g = [0, 0, 0, 0];
    for (let i = 0; i < 5; i++) {
      const e = x[i * 3] * w[0] + x[i * 3 + 1] * w[1] + x[i * 3 + 2] * w[2] + b - t[i];
      for (let j = 0; j < 3; j++) g[j] += (2 * e * x[i * 3 + j]) / 5;
      g[3] += (2 * e) / 5;
    }
    return g;
  }

  it.each([1, 2, 3])('with %i replica(s), one SGD step moves the weights by exactly the whole-batch gradient', async (replicas) => {
    const replica = linearReplicaModel.build(spec);
    const optimizer = tf.train.sgd(1);
    const runner = await DataParallelRunner.start({ model: linearReplicaModel, ref: linearRef, spec, replica, optimizer, replicas, backend: 'wasm' });
    try {
      expect(runner.replicas).toBe(replicas);
      const r = await runner.step({ x, t });
      expect(r.sums.count).toBe(5); // every row was seen once, across the shards
      const g = exactGradient(spec.w0, spec.b0);
      const w = Array.from(replica.variables[0].dataSync());
      const b = replica.variables[1].dataSync()[0];
      spec.w0.forEach((w0, j) => expect(w[j]).toBeCloseTo(w0 - g[j], 5));
      expect(b).toBeCloseTo(spec.b0 - g[3], 5);
      // A second step starts the peers from the updated weights (not their own initial ones).
      const g2 = exactGradient(w, b);
      await runner.step({ x, t });
      const w2 = Array.from(replica.variables[0].dataSync());
      w.forEach((wj, j) => expect(w2[j]).toBeCloseTo(wj - g2[j], 4));
    } finally {
      await runner.close();
      replica.dispose();
      optimizer.dispose();
    }
  });

  it('reports a replica that fails to build (layout differs from rank 0)', async () => {
    const replica = linearReplicaModel.build(spec);
    const optimizer = tf.train.sgd(1);
    // The peers build from `spec` (3 inputs) while rank 0 has 4: the layouts differ.
    const other = linearReplicaModel.build({ inputs: 4, w0: [1, 1, 1, 1], b0: 0 });
    await expect(DataParallelRunner.start({ model: linearReplicaModel, ref: linearRef, spec, replica: other, optimizer, replicas: 2, backend: 'wasm' }))
      .rejects.toThrow(/differ from rank 0/);
    replica.dispose();
    other.dispose();
    optimizer.dispose();
  });
});

describe('data-parallel classifier training', () => {
  const S = 32;
  let labels: string[];
  let crops: CropSet;
  const input = (over: Partial<TrainingInput> = {}): TrainingInput => ({
    labels, train: crops.train, val: crops.val, hyperparameters: { epochs: 2, batchSize: 32, learningRate: 0.002, imageSize: S, seed: 5 }, ...over,
  });
  const curve = async (replicas: number) => {
    const r = await trainClassifier(input(), { replicas });
    const weights = r.model.getWeights().map((w) => Array.from(w.dataSync()));
    r.model.dispose();
    return { losses: r.history.map((m) => [m.loss, m.accuracy, m.valLoss]), weights, replicas: r.replicas };
  };
  let one: Awaited<ReturnType<typeof curve>>;
  let two: Awaited<ReturnType<typeof curve>>;

  beforeAll(async () => {
    const kit = await generateSyntheticKit({ seed: 3, images: 110 });
    labels = kit.labels;
    crops = await buildCropSet(kit.coco, kit.loadImage, Object.fromEntries(labels.map((l, i) => [l, i])), S);
    one = await curve(1);
    two = await curve(2);
  });

  it('the same seed and replica count give a bit-identical loss curve and weights', async () => {
    expect(crops.train.y.length % 32).not.toBe(0); // the last, smaller batch is split too
    const again = await curve(2);
    expect(two.replicas).toBe(2);
    expect(again.losses).toEqual(two.losses);
    expect(again.weights).toEqual(two.weights);
  });

  it('matches a single-replica run of the same seed within float rounding', () => {
    // Two shards' gradients summed instead of one batch gradient differ by float32 rounding
    // (~1e-7 relative); Adam normalises each step by √v, so tiny gradients can turn rounding
    // into visible steps and the runs drift apart slowly. After 2 epochs the measured gap is
    // ~1e-5 in the loss; a real fault (a dropped or doubly counted shard, stale peer weights)
    // moves the first epoch's loss by more than 1e-2.
    expect(one.replicas).toBe(1);
    expect(two.losses).not.toEqual(one.losses); // really two different computations
    two.losses.forEach((row, e) => row.forEach((v, j) => expect(Math.abs(v! - one.losses[e][j]!)).toBeLessThan(e === 0 ? 1e-3 : 5e-3)));
  });

  it('moves the crop arrays into the worker when asked (not copied: nothing left here)', async () => {
    const copy = (ds: { x: Float32Array; y: Int32Array }) => ({ x: ds.x.slice(), y: ds.y.slice() });
    const train = copy(crops.train);
    const val = copy(crops.val);
    const out = await runTrainingInWorker(input({ train, val, hyperparameters: { epochs: 1, batchSize: 32, learningRate: 0.002, imageSize: S, seed: 5 } }), {
      transferInputs: true, replicas: 2, logger: quiet,
    });
    expect(train.x.byteLength).toBe(0);
    expect(val.y.byteLength).toBe(0);
    expect(out.replicas).toBe(2);
    expect(out.history).toHaveLength(1);
  });
});
