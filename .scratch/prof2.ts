import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/ml/train/backend.js';
import { buildClassifier } from '../src/ml/train/model.js';
const dir = '/tmp/speed-data';
const rd = (f: string) => { const b = fs.readFileSync(`${dir}/${f}`); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length); };
const x = new Float32Array(rd('train_x.f32')); const y = new Int32Array(rd('train_y.i32'));
await selectBackend('wasm', { info: () => undefined });
const agg = new Map<string, number>();
for (const k of tf.getKernelsForBackend('wasm')) {
  const f = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({ ...k, kernelFunc: (a: any) => { const t = performance.now(); const r = f(a); const key = k.kernelName + (k.kernelName === 'BatchMatMul' ? `(${a.attrs.transposeA ? 'T' : 'N'}${a.attrs.transposeB ? 'T' : 'N'} ${a.inputs.a.shape}x${a.inputs.b.shape})` : k.kernelName.startsWith('Conv') ? `(${(a.inputs.x ?? a.inputs.dy).shape})` : ''); agg.set(key, (agg.get(key) ?? 0) + performance.now() - t); return r; } } as any);
}
const model = buildClassifier({ imageSize: 64, numClasses: 6, convFilters: [16, 32, 32], seed: 1 });
const opt = tf.train.adam(0.001);
const per = 64 * 64 * 3;
const B = Number(process.argv[2] ?? 32);
const step = (i: number) => tf.tidy(() => {
  const from = (i * B) % (y.length - B);
  const xs = tf.tensor4d(x.subarray(from * per, (from + B) * per), [B, 64, 64, 3]);
  const ys = tf.oneHot(tf.tensor1d(y.subarray(from, from + B), 'int32'), 6);
  return opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, true)!.dataSync()[0];
});
for (let i = 0; i < 3; i++) step(i);
agg.clear();
const c0 = process.cpuUsage(); const t0 = performance.now();
for (let i = 0; i < 10; i++) step(i);
const c = process.cpuUsage(c0);
const total = [...agg.values()].reduce((a, b) => a + b, 0);
console.log('10 steps wall', (performance.now() - t0).toFixed(0), 'cpu', ((c.user + c.system) / 1000).toFixed(0), 'kernels', total.toFixed(0));
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(k.padEnd(60), v.toFixed(1), (100 * v / total).toFixed(1) + '%');
