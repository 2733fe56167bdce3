import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
const t = setTimeout(() => { console.log('timeout: threaded init hung'); process.exit(2); }, 20000);
try {
  const ok = await tf.setBackend('wasm');
  console.log('setBackend', ok);
  const b = tf.findBackend('wasm') as any;
  console.log('threads', b?.wasm?._get_threads_count?.());
  const y = tf.conv2d(tf.ones([1, 8, 8, 3]) as tf.Tensor4D, tf.ones([3, 3, 3, 4]) as tf.Tensor4D, 1, 'same');
  console.log('conv ok', y.dataSync()[0]);
} catch (e) { console.log('error', (e as Error).message?.slice(0, 300) ?? e); }
clearTimeout(t); process.exit(0);
