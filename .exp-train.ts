import { generateSyntheticKit } from './test/helpers/synthetic-kit.js';
import { buildCropSet } from './src/ml/dataset/crops.js';
import { trainAndExport } from './src/ml/train/trainer.js';
import { writeFileSync } from 'node:fs';
let t = performance.now();
const kit = await generateSyntheticKit({ seed: 1, images: 150 });
console.log('gen ms', performance.now() - t, kit.coco.annotations.length); t = performance.now();
const crops = await buildCropSet(kit.coco, kit.loadImage, Object.fromEntries(kit.labels.map((l, i) => [l, i])), 32);
console.log('crop ms', performance.now() - t, crops.train.y.length, crops.val.y.length, crops.test.y.length, crops.skipped); t = performance.now();
const out = await trainAndExport({ labels: kit.labels, train: crops.train, val: crops.val, hyperparameters: { epochs: 10, batchSize: 32, learningRate: 0.002, imageSize: 32, seed: 7 } }, { onProgress: (m) => console.log(JSON.stringify(m)) });
console.log('train ms', performance.now() - t, out.backend, out.parityMaxAbsDiff, out.onnx.length);
writeFileSync('/tmp/exp/model.onnx', out.onnx);
// save one crop sheet for eyeballing
import sharp from 'sharp';
const n = 16, S = 32; const sheet = Buffer.alloc(n * S * S * 3);
for (let i = 0; i < n; i++) for (let r = 0; r < S; r++) for (let c = 0; c < S * 3; c++) sheet[(r * n * S * 3) + i * S * 3 + c] = Math.round(crops.train.x[i * S * S * 3 + r * S * 3 + c] * 255);
await sharp(sheet, { raw: { width: n * S, height: S, channels: 3 } }).resize(n * S * 3, S * 3, { kernel: 'nearest' }).png().toFile('/tmp/exp/sheet.png');
await sharp(kit.png.get(kit.coco.images[0].file_name)!).resize(384).png().toFile('/tmp/exp/img0.png');
console.log(crops.train.y.slice(0, 16).join(','));
