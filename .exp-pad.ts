import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './src/ml/train/backend.js';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
await selectBackend('wasm', { info: () => undefined });
const x = tf.tensor([1, 2, 3, 4, 5, 6], [1, 2, 1, 3, 1, 1]);
const r = tf.engine().runKernel('PadV2', { x }, { paddings: [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]], constantValue: 0 }) as tf.Tensor;
console.log(r.shape, Array.from(r.reshape([4, 6]).dataSync()), version_wasm);
