import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/ml/train/backend.js';

const quiet = { info: () => undefined };

/** Deterministic values in [-1, 1) (negatives matter: they exposed wasm's MaxPoolGrad bug). */
function values(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

async function onBackend(name: 'cpu' | 'wasm', fn: () => tf.Tensor): Promise<Float32Array> {
  await selectBackend(name, quiet);
  const t = tf.tidy(fn);
  const data = (await t.data()) as Float32Array;
  t.dispose();
  return data;
}

/** max |cpu − wasm| must be ≤ 1e-4 × max(1, max |cpu|). */
async function expectSameOnBothBackends(fn: () => tf.Tensor): Promise<void> {
  const cpu = await onBackend('cpu', fn);
  const wasm = await onBackend('wasm', fn);
  expect(wasm.length).toBe(cpu.length);
  let diff = 0;
  let mag = 1;
  for (let i = 0; i < cpu.length; i++) {
    diff = Math.max(diff, Math.abs(cpu[i] - wasm[i]));
    mag = Math.max(mag, Math.abs(cpu[i]));
  }
  expect(diff).toBeLessThanOrEqual(1e-4 * mag);
}

type Pad = 'same' | 'valid';
type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

/** tfjs does not export the conv2DBackpropFilter op, so dispatch the kernel directly. */
function backpropFilter(x: tf.Tensor, dy: tf.Tensor, filterShape: number[], strides: number | [number, number],
  pad: Pad | Pad4, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): tf.Tensor {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat, filterShape }) as tf.Tensor;
}
interface ConvCase { x: [number, number, number, number]; k: [number, number]; f: number; s: number | [number, number]; pad: Pad }

const convCases: ConvCase[] = [];
for (const s of [1, 2, 3] as const) {
  for (const pad of ['same', 'valid'] as const) {
    convCases.push({ x: [2, 9, 7, 3], k: [3, 2], f: 4, s, pad });
    convCases.push({ x: [3, 8, 11, 5], k: [2, 3], f: 2, s, pad });
    convCases.push({ x: [1, 6, 6, 1], k: [1, 1], f: 3, s, pad });
  }
}
convCases.push({ x: [4, 32, 32, 3], k: [3, 3], f: 16, s: 1, pad: 'same' });
// The SIMD filter gradient's blocks: 4 channels × 8 filters, plus channel and filter remainders.
convCases.push({ x: [3, 12, 10, 8], k: [3, 3], f: 16, s: 1, pad: 'same' });
convCases.push({ x: [2, 9, 11, 7], k: [3, 3], f: 13, s: 1, pad: 'same' });
convCases.push({ x: [2, 8, 8, 32], k: [3, 3], f: 32, s: 1, pad: 'valid' });
convCases.push({ x: [1, 5, 4, 6], k: [5, 5], f: 9, s: 1, pad: 'same' });
convCases.push({ x: [2, 13, 10, 8], k: [5, 4], f: 6, s: [2, 3], pad: 'same' });
convCases.push({ x: [2, 13, 10, 8], k: [4, 5], f: 6, s: [3, 1], pad: 'valid' });

const convTable = convCases.map((c) => [`x=${c.x} k=${c.k} f=${c.f} s=${c.s} ${c.pad}`, c] as const);

let firstChoice: Awaited<ReturnType<typeof selectBackend>>;

beforeAll(async () => {
  firstChoice = await selectBackend('wasm', quiet);
});

afterAll(async () => {
  await selectBackend('cpu', quiet);
});

describe('wasm training kernels', () => {
  it('registers the missing Conv2DBackpropFilter and replaces the slow Conv2DBackpropInput, MaxPoolGrad, BatchMatMul and Sum', async () => {
    expect(firstChoice.name).toBe('wasm');
    // As of tfjs-backend-wasm 4.22 (another release keeps its own MaxPoolGrad unless the probe finds it broken).
    expect(firstChoice.addedKernels).toEqual(['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'BatchMatMul', 'Sum']);
    const choice = await selectBackend('wasm', quiet);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    // Re-selecting is idempotent: nothing new is registered the second time.
    expect(choice.addedKernels).toEqual([]);
  });

  it.each(convTable)('Conv2DBackpropFilter equals cpu: %s', async (_case, c) => {
    const w = [c.k[0], c.k[1], c.x[3], c.f] as [number, number, number, number];
    const xv = values(c.x.reduce((a, b) => a * b), 1);
    const out = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(w) as tf.Tensor4D, c.s, c.pad).shape);
    const dyv = values(out.reduce((a, b) => a * b), 2);
    await expectSameOnBothBackends(() => backpropFilter(tf.tensor4d(xv, c.x), tf.tensor4d(dyv, out), w, c.s, c.pad));
  });

  it.each(convTable)('Conv2D weight gradient through tf.grad equals cpu: %s', async (_case, c) => {
    const w = [c.k[0], c.k[1], c.x[3], c.f] as [number, number, number, number];
    const xv = values(c.x.reduce((a, b) => a * b), 3);
    const wv = values(w.reduce((a, b) => a * b), 4);
    await expectSameOnBothBackends(() =>
      tf.grad((filter: tf.Tensor) => tf.conv2d(tf.tensor4d(xv, c.x), filter as tf.Tensor4D, c.s, c.pad).square().sum())(tf.tensor4d(wv, w)));
  });

  it.each(convTable)('Conv2DBackpropInput equals cpu: %s', async (_case, c) => {
    const w = [c.k[0], c.k[1], c.x[3], c.f] as [number, number, number, number];
    const xv = values(c.x.reduce((a, b) => a * b), 5);
    const wv = values(w.reduce((a, b) => a * b), 6);
    await expectSameOnBothBackends(() =>
      tf.grad((x: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, tf.tensor4d(wv, w), c.s, c.pad).square().sum())(tf.tensor4d(xv, c.x)));
  });

  it('Conv2DBackpropFilter handles NCHW and explicit padding', async () => {
    const xv = values(2 * 3 * 7 * 6, 7);
    const dyShape = tf.tidy(() => tf.conv2d(tf.zeros([2, 7, 6, 3]) as tf.Tensor4D, tf.zeros([3, 3, 3, 4]) as tf.Tensor4D, 2, [[0, 0], [1, 2], [2, 0], [0, 0]]).shape);
    const dyv = values(dyShape.reduce((a, b) => a * b), 8);
    await expectSameOnBothBackends(() =>
      backpropFilter(tf.tensor4d(xv, [2, 7, 6, 3]), tf.tensor4d(dyv, dyShape as [number, number, number, number]), [3, 3, 3, 4], 2, [[0, 0], [1, 2], [2, 0], [0, 0]]));
    // NCHW inputs give the same [KH,KW,C,F] filter gradient as NHWC.
    const nchw = (): tf.Tensor => backpropFilter(tf.tensor4d(xv, [2, 7, 6, 3]).transpose([0, 3, 1, 2]),
      tf.tensor4d(dyv, dyShape as [number, number, number, number]).transpose([0, 3, 1, 2]), [3, 3, 3, 4], 2, 'same', 'NCHW');
    const nhwc = (): tf.Tensor => backpropFilter(tf.tensor4d(xv, [2, 7, 6, 3]), tf.tensor4d(dyv, dyShape as [number, number, number, number]), [3, 3, 3, 4], 2, 'same');
    await expectSameOnBothBackends(nchw);
    const a = await onBackend('wasm', nchw);
    const b = await onBackend('wasm', nhwc);
    expect(Array.from(a).map((v, i) => Math.abs(v - b[i])).reduce((m, v) => Math.max(m, v), 0)).toBeLessThan(1e-4);
  });

  it.each([
    { x: [2, 7, 6, 3], w: [3, 3, 3, 4], s: 2, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
    { x: [1, 5, 6, 2], w: [2, 2, 2, 3], s: 1, pad: [[0, 0], [3, 3], [0, 4], [0, 0]] }, // padding > kernel − 1: crop path
    { x: [2, 9, 8, 3], w: [3, 2, 3, 2], s: 3, pad: [[0, 0], [0, 5], [4, 1], [0, 0]] },
  ] as Array<{ x: [number, number, number, number]; w: [number, number, number, number]; s: number; pad: Pad4 }>)(
    'Conv2DBackpropInput handles explicit padding and NCHW: %#', async (c) => {
      const dyShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.w) as tf.Tensor4D, c.s, c.pad).shape);
      const dyv = values(dyShape.reduce((a, b) => a * b), 15);
      const wv = values(c.w.reduce((a, b) => a * b), 16);
      const run = (format: 'NHWC' | 'NCHW') => (): tf.Tensor => {
        const dy = tf.tensor4d(dyv, dyShape as [number, number, number, number]);
        const inputShape = format === 'NHWC' ? c.x : [c.x[0], c.x[3], c.x[1], c.x[2]];
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy: format === 'NHWC' ? dy : dy.transpose([0, 3, 1, 2]), filter: tf.tensor4d(wv, c.w) },
          { strides: c.s, pad: c.pad, dataFormat: format, inputShape }) as tf.Tensor;
        return format === 'NHWC' ? dx : dx.transpose([0, 2, 3, 1]);
      };
      await expectSameOnBothBackends(run('NHWC'));
      const a = await onBackend('wasm', run('NHWC'));
      const b = await onBackend('wasm', run('NCHW'));
      expect(Array.from(a).map((v, i) => Math.abs(v - b[i])).reduce((m, v) => Math.max(m, v), 0)).toBeLessThan(1e-4);
    });

  const poolCases: Array<{ x: [number, number, number, number]; f: [number, number]; s: number | [number, number]; pad: Pad }> = [];
  for (const s of [1, 2, 3]) {
    for (const pad of ['same', 'valid'] as const) {
      poolCases.push({ x: [2, 9, 7, 3], f: [3, 2], s, pad });
      poolCases.push({ x: [3, 8, 8, 4], f: [2, 2], s, pad });
    }
  }
  poolCases.push({ x: [4, 32, 32, 16], f: [2, 2], s: 2, pad: 'valid' });
  poolCases.push({ x: [2, 11, 6, 2], f: [2, 3], s: [2, 1], pad: 'same' });
  const poolTable = poolCases.map((c) => [`x=${c.x} f=${c.f} s=${c.s} ${c.pad}`, c] as const);

  it.each(poolTable)('MaxPoolGrad equals cpu (inputs include all-negative windows): %s', async (_case, c) => {
    const xv = values(c.x.reduce((a, b) => a * b), 9);
    const dyShape = tf.tidy(() => tf.maxPool(tf.zeros(c.x) as tf.Tensor4D, c.f, c.s, c.pad).shape);
    const dyv = values(dyShape.reduce((a, b) => a * b), 10);
    await expectSameOnBothBackends(() =>
      tf.grad((x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, c.f, c.s, c.pad).mul(tf.tensor(dyv, dyShape)).sum())(tf.tensor4d(xv, c.x)));
  });

  it.each(poolTable)('AvgPoolGrad (built-in) equals cpu: %s', async (_case, c) => {
    const xv = values(c.x.reduce((a, b) => a * b), 11);
    const dyShape = tf.tidy(() => tf.avgPool(tf.zeros(c.x) as tf.Tensor4D, c.f, c.s, c.pad).shape);
    const dyv = values(dyShape.reduce((a, b) => a * b), 12);
    await expectSameOnBothBackends(() =>
      tf.grad((x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, c.f, c.s, c.pad).mul(tf.tensor(dyv, dyShape)).sum())(tf.tensor4d(xv, c.x)));
  });

  it.each([
    { a: [32, 2048], b: [32, 64], ta: true, tb: false }, // a dense layer's kernel gradient
    { a: [32, 64], b: [2048, 64], ta: false, tb: true }, // its input gradient
    { a: [7, 13], b: [13, 21], ta: false, tb: false },
    { a: [13, 7], b: [21, 13], ta: true, tb: true },
    { a: [3, 5, 9], b: [3, 9, 18], ta: false, tb: false },
    { a: [3, 9, 5], b: [1, 18, 9], ta: true, tb: true }, // one b broadcast over the batch
    { a: [1, 5, 9], b: [4, 9, 3], ta: false, tb: false },
  ])('BatchMatMul equals cpu: %j', async (c) => {
    const av = values(c.a.reduce((p, v) => p * v), 17);
    const bv = values(c.b.reduce((p, v) => p * v), 18);
    await expectSameOnBothBackends(() => tf.matMul(tf.tensor(av, c.a), tf.tensor(bv, c.b), c.ta, c.tb));
  });

  it.each([
    { x: [4, 9, 7, 16], axis: [0, 1, 2], keepDims: false }, // a bias gradient
    { x: [5, 3, 6], axis: [0, 1], keepDims: true },
    { x: [33, 19], axis: 0, keepDims: false },
    { x: [4, 9, 7, 3], axis: [1, 2], keepDims: false }, // not leading: the built-in Sum
    { x: [6, 5], axis: -1, keepDims: false },
  ])('Sum equals cpu: %j', async (c) => {
    const xv = values(c.x.reduce((p, v) => p * v), 19);
    await expectSameOnBothBackends(() => tf.sum(tf.tensor(xv, c.x), c.axis, c.keepDims));
  });

  it('does not leak tensors or free the caller inputs', async () => {
    await selectBackend('wasm', quiet);
    const x = tf.tensor4d(values(2 * 8 * 8 * 3, 13), [2, 8, 8, 3]);
    const dy = tf.tensor4d(values(2 * 4 * 4 * 5, 14), [2, 4, 4, 5]);
    // Intermediates are backend TensorInfos the engine never sees, so count the backend's buffers too.
    const backendBuffers = () => (tf.backend() as unknown as { dataIdMap: { numDataIds(): number } }).dataIdMap.numDataIds();
    const before = tf.memory().numTensors;
    const buffersBefore = backendBuffers();
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => { backpropFilter(x, dy, [3, 3, 3, 5], 2, 'same'); });
      tf.tidy(() => { tf.grad((v: tf.Tensor) => tf.conv2d(v as tf.Tensor4D, tf.ones([3, 3, 3, 5]) as tf.Tensor4D, 2, 'same').sum())(x); });
      tf.tidy(() => { tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid').sum())(x); });
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(backendBuffers()).toBe(buffersBefore);
    expect(x.isDisposed).toBe(false);
    expect((await x.data()).length).toBe(2 * 8 * 8 * 3);
    x.dispose();
    dy.dispose();
  });
});
