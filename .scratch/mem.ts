import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/ml/train/backend.js';
await selectBackend('wasm', { info: () => undefined });
const b = tf.findBackend('wasm') as any;
console.log(Object.keys(b), Object.keys(b.wasm).filter((k) => /asm|mem|HEAP/i.test(k)));
console.log(b.wasm.asm && Object.keys(b.wasm.asm).slice(0, 5), b.wasm.asm?.memory instanceof WebAssembly.Memory, b.wasm.HEAPU8.length);
const t = tf.zeros([4]); const d = b.dataIdMap.get(t.dataId); console.log(d);
