import * as tf from '@tensorflow/tfjs';
import { generateDetectionDataset } from '../src/demo/detection-dataset.js';
import { selectBackend } from '../src/ml/train/backend.js';
import { makeBatch } from '../src/ml/train/detector/batch.js';
import { detectorLossTerms } from '../src/ml/train/detector/loss.js';
import { DEFAULT_HEAD_WIDTH, DEFAULT_WIDTHS, buildDetector } from '../src/ml/train/detector/model.js';
import { buildDetectionSets } from '../src/ml/train/detector/samples.js';
await selectBackend('wasm', { info: () => undefined });
const data = await generateDetectionDataset({ seed: 1, images: 90 });
const load = (im: { file_name: string }) => Promise.resolve(data.images.get(im.file_name)!);
const sets = await buildDetectionSets(data.coco as never, load as never, Object.fromEntries(data.labels.map((l, i) => [l, i])), 160);
const nc = data.labels.length;
const model = buildDetector({ inputSize: 160, numClasses: nc, widths: DEFAULT_WIDTHS, headWidth: DEFAULT_HEAD_WIDTH, seed: 1 });
const opt = tf.train.adam(0.006);
const shard = Number(process.env.SHARD ?? 4);
const step = (i: number) => {
  const b = makeBatch(sets.train, Array.from({ length: shard }, (_, j) => (i * shard + j) % sets.train.count), nc);
  tf.tidy(() => { opt.minimize(() => detectorLossTerms(model, b).total); });
};
for (let i = 0; i < 3; i++) step(i);
const agg = new Map<string, { ms: number; n: number }>();
let wall = 0;
const STEPS = 8;
for (let i = 0; i < STEPS; i++) {
  const t0 = performance.now();
  const p = await tf.profile(() => step(i + 3));
  wall += performance.now() - t0;
  for (const k of p.kernels) {
    const key = `${k.name} ${JSON.stringify(k.inputShapes?.[0] ?? [])}${k.name.startsWith('Conv') || k.name.startsWith('Fused') ? '→' + JSON.stringify(k.outputShapes?.[0] ?? []) : ''}`;
    const byName = k.name;
    const ms = Number(k.kernelTimeMs) || 0;
    for (const kk of [byName, '  ' + key]) { const a = agg.get(kk) ?? { ms: 0, n: 0 }; a.ms += ms; a.n++; agg.set(kk, a); }
  }
}
const total = [...agg].filter(([k]) => !k.startsWith('  ')).reduce((s, [, v]) => s + v.ms, 0);
console.log(`shard ${shard} images, ${STEPS} steps, kernel ms/step ${(total / STEPS).toFixed(1)}, wall ms/step (profiled) ${(wall / STEPS).toFixed(1)}`);
const rows = [...agg].filter(([k]) => !k.startsWith('  ')).sort((a, b) => b[1].ms - a[1].ms).slice(0, 14);
for (const [k, v] of rows) console.log(`${(100 * v.ms / total).toFixed(1).padStart(5)}%  ${(v.ms / STEPS).toFixed(1).padStart(7)} ms/step  ${k}`);
console.log('--- by shape');
for (const [k, v] of [...agg].filter(([k]) => k.startsWith('  ')).sort((a, b) => b[1].ms - a[1].ms).slice(0, 22)) console.log(`${(100 * v.ms / total).toFixed(1).padStart(5)}%  ${(v.ms / STEPS).toFixed(1).padStart(7)} ms/step ${k}`);
