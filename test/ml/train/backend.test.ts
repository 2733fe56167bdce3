import * as tf from '@tensorflow/tfjs';
import { selectBackend, wasmDistDir } from '../../../src/ml/train/backend.js';
import { existsSync } from 'node:fs';
import path from 'node:path';

describe('selectBackend', () => {
  it('falls back from tfjs-node to wasm (loaded from the package on disk) and logs why', async () => {
    const logs: Array<{ obj: object; msg?: string }> = [];
    const choice = await selectBackend('auto', { info: (obj, msg) => logs.push({ obj, msg }) });
    expect(choice.name).toBe('wasm'); // @tensorflow/tfjs-node cannot be installed here
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.reason).toMatch(/tfjs-node unavailable/);
    expect(logs).toEqual([{ obj: expect.objectContaining({ backend: 'wasm' }), msg: 'tfjs backend: wasm' }]);
    expect(existsSync(path.join(wasmDistDir(), 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
  });

  it('honours an explicit cpu preference', async () => {
    const choice = await selectBackend('cpu', { info: () => undefined });
    expect(choice).toMatchObject({ name: 'cpu', addedKernels: [] });
    expect(tf.getBackend()).toBe('cpu');
  });
});
