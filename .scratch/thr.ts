import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/ml/train/backend.js';
console.log('simd', await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), 'mt', await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
await selectBackend('wasm', { info: () => undefined });
const b = tf.findBackend('wasm') as any;
console.log('threads', b.wasm._get_threads_count?.(), 'shared?', Object.prototype.toString.call(b.wasm.HEAPU8.buffer));
