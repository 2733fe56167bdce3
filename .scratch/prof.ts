import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/ml/train/backend.js';
import { buildClassifier } from '../src/ml/train/model.js';
const dir = '/tmp/speed-data';
const rd = (f: string) => { const b = fs.readFileSync(`${dir}/${f}`); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length); };
const x = new Float32Array(rd('train_x.f32')); const y = new Int32Array(rd('train_y.i32'));
await selectBackend('wasm', { info: () => undefined });
const model = buildClassifier({ imageSize: 64, numClasses: 6, convFilters: [16, 32, 32], seed: 1 });
const opt = tf.train.adam(0.001);
const per = 64 * 64 * 3;
const step = (i: number) => tf.tidy(() => {
  const from = (i * 32) % (y.length - 32);
  const xs = tf.tensor4d(x.subarray(from * per, (from + 32) * per), [32, 64, 64, 3]);
  const ys = tf.oneHot(tf.tensor1d(y.subarray(from, from + 32), 'int32'), 6);
  return opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, true)!.dataSync()[0];
});
for (let i = 0; i < 3; i++) step(i);
const agg = new Map<string, number>();
let total = 0;
for (let i = 0; i < 10; i++) {
  const p = await tf.profile(() => { step(i); });
  for (const k of p.kernels) { const t = (k as any).kernelTimeMs as number; agg.set(k.name, (agg.get(k.name) ?? 0) + t); total += t; }
}
const c0 = process.cpuUsage(); const t0 = performance.now();
for (let i = 0; i < 10; i++) step(i);
const c = process.cpuUsage(c0);
console.log('10 steps wall', (performance.now() - t0).toFixed(0), 'cpu', ((c.user + c.system) / 1000).toFixed(0), 'kernel total(profiled)', total.toFixed(0));
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(k.padEnd(28), v.toFixed(0), (100 * v / total).toFixed(1) + '%');
