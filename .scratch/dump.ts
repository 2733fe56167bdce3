import fs from 'node:fs';
import { buildCropSet } from '../src/ml/dataset/crops.js';
import { generateSyntheticKit } from '../test/helpers/synthetic-kit.js';
import { seededRandom } from '../src/ml/random.js';
const images = Number(process.argv[2] ?? 300);
const t0 = Date.now();
const kit = await generateSyntheticKit({ seed: 1, images });
const crops = await buildCropSet(kit.coco, kit.loadImage, Object.fromEntries(kit.labels.map((l, i) => [l, i])), 64);
const dir = '/tmp/speed-data';
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(`${dir}/train_x.f32`, Buffer.from(crops.train.x.buffer));
fs.writeFileSync(`${dir}/train_y.i32`, Buffer.from(crops.train.y.buffer));
const n = crops.train.y.length;
const r = seededRandom(1);
const order = new Int32Array(5 * n);
for (let e = 0; e < 5; e++) { const idx = Int32Array.from({ length: n }, (_, i) => i); for (let i = n - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [idx[i], idx[j]] = [idx[j], idx[i]]; } order.set(idx, e * n); }
fs.writeFileSync(`${dir}/order.i32`, Buffer.from(order.buffer));
console.log({ n, labels: kit.labels.length, val: crops.val.y.length, ms: Date.now() - t0 });
