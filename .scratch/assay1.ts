import fs from 'node:fs';
import { selectBackend } from '../src/ml/train/backend.js';
import { trainClassifier } from '../src/ml/train/trainer.js';
const dir = '/tmp/speed-data';
const x = ((b) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)))(fs.readFileSync(`${dir}/train_x.f32`));
const y = ((b) => new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)))(fs.readFileSync(`${dir}/train_y.i32`));
await selectBackend((process.argv[2] ?? 'wasm') as never, { info: () => undefined });
const c0 = process.cpuUsage(); const t0 = performance.now();
let last = c0;
const r = await trainClassifier({ labels: ['a','b','c','d','e','f'], train: { x, y }, val: { x: new Float32Array(0), y: new Int32Array(0) }, hyperparameters: { epochs: Number(process.argv[4] ?? 3), batchSize: 32, learningRate: 0.001, imageSize: 64, seed: 1 } }, {
  replicas: Number(process.argv[3] ?? 1), onProgress: (m) => { const c = process.cpuUsage(last); last = process.cpuUsage(); console.log(m.epoch, m.loss.toPrecision(10), m.imagesPerSecond.toFixed(1), 'cpu', ((c.user + c.system) / 1e6).toFixed(2)); } });
