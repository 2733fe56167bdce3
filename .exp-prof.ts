import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './src/ml/train/backend.js';
import { buildClassifier } from './src/ml/train/model.js';
const quiet = { info: () => undefined };
for (const be of ['wasm'] as const) {
  await selectBackend(be, quiet);
  const model = buildClassifier({ imageSize: 32, numClasses: 6, convFilters: [16, 32, 32], seed: 1 });
  const opt = tf.train.adam(0.001);
  const xs = tf.randomUniform([32, 32, 32, 3]); const oh = tf.oneHot(tf.tensor1d([0,1,2,3,4,5,0,1,2,3,4,5,0,1,2,3,4,5,0,1,2,3,4,5,0,1,2,3,4,5,0,1], 'int32'), 6);
  const step = () => tf.tidy(() => { opt.minimize(() => tf.losses.softmaxCrossEntropy(oh, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, true)!.dataSync(); });
  step();
  const steps = be === 'cpu' ? 1 : 40;
  const t = performance.now(); for (let i = 0; i < steps; i++) step(); const dt = (performance.now() - t) / steps;
  console.log(be, 'ms/step', dt.toFixed(1), 'img/s', (32000 / dt).toFixed(0));
  const prof = await tf.profile(() => { for (let i = 0; i < 5; i++) step(); });
  const agg: Record<string, number> = {};
  for (const k of prof.kernels) agg[k.name] = (agg[k.name] ?? 0) + (k.kernelTimeMs as number);
  console.log(Object.entries(agg).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k}:${v.toFixed(1)}`).join(' '));
}
