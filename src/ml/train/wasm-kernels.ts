/**
 * Gradient kernels the tfjs wasm backend (4.22) lacks or gets wrong.
 *
 * - Conv2DBackpropFilter is missing, so training a CNN on wasm fails. We build it
 *   from wasm's own (XNNPACK) kernels: the filter gradient is itself a valid
 *   convolution of x (as [C,H,W,N]) with dy (as [OH,OW,N,F]) dilated by the
 *   forward stride. wasm's Conv3DBackpropFilterV2 is wrong for strides > 1, so
 *   nothing here builds on it.
 * - MaxPoolGrad exists but starts its running max at +FLT_MIN, so any window whose
 *   values are all negative loses its gradient. We replace it only when a probe
 *   shows the built-in is wrong, so a fixed upstream kernel wins.
 * - Conv2DBackpropInput exists and is correct, but in 4.22 it is a scalar loop that took half
 *   of every training step. We replace it only on that exact version; any other release keeps its own.
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;

function wasmKernel(name: string, backend: BackendWasm, inputs: Record<string, Info>, attrs: Attrs): Info {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm backend has no ${name} kernel`);
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as Info;
}

/** Runs wasm kernels in sequence and tracks every intermediate it created (never the caller's inputs). */
class Scratch {
  readonly owned: Info[] = [];
  constructor(private readonly backend: BackendWasm) {}
  run(name: string, inputs: Record<string, Info>, attrs: Attrs): Info {
    const out = wasmKernel(name, this.backend, inputs, attrs);
    this.owned.push(out);
    return out;
  }
}

/** Runs `body`, then frees every intermediate except its result (all of them if it throws). */
function withScratch(backend: BackendWasm, body: (s: Scratch) => Info): Info {
  const s = new Scratch(backend);
  let result: Info | null = null;
  try {
    result = body(s);
    return result;
  } finally {
    for (const t of s.owned) if (t !== result) backend.disposeData(t.dataId);
  }
}

interface Conv2DBackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** dW[kh,kw,c,f] = Σ_{n,oh,ow} xpad[n, oh·sh+kh, ow·sw+kw, c] · dy[n,oh,ow,f]. */
export function conv2DBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): Info {
  const { backend } = args;
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  return withScratch(backend, (s) => {
    let x = args.inputs.x as Info;
    let dy = args.inputs.dy as Info;
    if (attrs.dataFormat === 'NCHW') {
      x = s.run('Transpose', { x }, { perm: [0, 2, 3, 1] });
      dy = s.run('Transpose', { x: dy }, { perm: [0, 2, 3, 1] });
    }
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const { padInfo, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
    const [n, h, w, c] = x.shape;
    // Only the rows/cols some output position reads are needed; this also makes the conv output exactly KH×KW.
    const needH = (oh - 1) * sh + info.filterHeight;
    const needW = (ow - 1) * sw + info.filterWidth;
    const padBottom = Math.max(0, needH - padInfo.top - h);
    const padRight = Math.max(0, needW - padInfo.left - w);
    let xp = x;
    if (padInfo.top || padBottom || padInfo.left || padRight) {
      xp = s.run('PadV2', { x: xp }, { paddings: [[0, 0], [padInfo.top, padBottom], [padInfo.left, padRight], [0, 0]], constantValue: 0 });
    }
    if (xp.shape[1] !== needH || xp.shape[2] !== needW) {
      xp = s.run('Slice', { x: xp }, { begin: [0, 0, 0, 0], size: [n, needH, needW, c] });
    }
    const xt = s.run('Transpose', { x: xp }, { perm: [3, 1, 2, 0] }); // [C, needH, needW, N]
    const dyt = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, N, F]
    const conv = s.run('Conv2D', { x: xt, filter: dyt }, {
      strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: undefined,
    }); // [C, KH, KW, F]
    return s.run('Transpose', { x: conv }, { perm: [1, 2, 0, 3] }); // [KH, KW, C, F]
  });
}

interface Conv2DBackpropInputAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/** Pads (positive) or crops (negative) the two spatial axes of an NHWC tensor. */
function padOrCrop(s: Scratch, x: Info, [top, bottom]: [number, number], [left, right]: [number, number]): Info {
  let out = x;
  const grow = [Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right)];
  if (grow.some((v) => v > 0)) {
    out = s.run('PadV2', { x: out }, { paddings: [[0, 0], [grow[0], grow[1]], [grow[2], grow[3]], [0, 0]], constantValue: 0 });
  }
  const cut = [Math.max(0, -top), Math.max(0, -bottom), Math.max(0, -left), Math.max(0, -right)];
  if (cut.some((v) => v > 0)) {
    const [n, h, w, c] = out.shape;
    out = s.run('Slice', { x: out }, { begin: [0, cut[0], cut[2], 0], size: [n, h - cut[0] - cut[1], w - cut[2] - cut[3], c] });
  }
  return out;
}

/**
 * dx = valid conv of dy — dilated by the stride (zeros between rows/cols) and padded — with the
 * spatially flipped filter as [KH,KW,F,C]. wasm 4.22's built-in is a scalar C++ loop that took
 * half of each training step; this runs on XNNPACK's Conv2D instead.
 */
export function conv2DBackpropInputWasm(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): Info {
  const { backend } = args;
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  return withScratch(backend, (s) => {
    const filter = args.inputs.filter as Info;
    let dy = args.inputs.dy as Info;
    const nchw = attrs.dataFormat === 'NCHW';
    const [b, d1, d2, d3] = attrs.inputShape;
    const xShape: [number, number, number, number] = nchw ? [b, d2, d3, d1] : [b, d1, d2, d3];
    if (nchw) dy = s.run('Transpose', { x: dy }, { perm: [0, 2, 3, 1] });
    const info = tf.backend_util.computeConv2DInfo(xShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
    const [n, oh, ow, f] = dy.shape;
    const [, h, w] = xShape;
    if (sh > 1 || sw > 1) {
      const r = s.run('Reshape', { x: dy }, { shape: [n, oh, 1, ow, 1, f] });
      const p = s.run('PadV2', { x: r }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
      dy = s.run('Reshape', { x: p }, { shape: [n, oh * sh, ow * sw, f] });
    }
    // After padding, row h+i of dy (i < KH) must line up with dx row h: total rows = H + KH − 1.
    const top = kh - 1 - padInfo.top;
    const left = kw - 1 - padInfo.left;
    const dyp = padOrCrop(s, dy, [top, h + kh - 1 - top - dy.shape[1]], [left, w + kw - 1 - left - dy.shape[2]]);
    const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] });
    const wf = s.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [KH, KW, F, C]
    let dx = s.run('Conv2D', { x: dyp, filter: wf }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined });
    if (nchw) dx = s.run('Transpose', { x: dx }, { perm: [0, 3, 1, 2] });
    return dx;
  });
}

interface PoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * MaxPoolGrad with the cpu backend's semantics: each output routes its gradient to the
 * first maximum of its window (padding excluded). Plain JS over the wasm heap — O(N·OH·OW·C·KH·KW).
 */
export function maxPoolGradWasm(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): Info {
  const { backend } = args;
  const attrs = args.attrs as unknown as PoolGradAttrs;
  const input = args.inputs.input as Info;
  const dyInfo = args.inputs.dy as Info;
  const p = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = p;
  const out = backend.makeOutput(input.shape, 'float32');
  // Heap views are taken after the allocation: growing wasm memory detaches earlier views.
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const dy = backend.typedArrayFromHeap(dyInfo) as Float32Array;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  for (let b = 0; b < n; b++) {
    for (let yr = 0; yr < oh; yr++) {
      const r0 = yr * p.strideHeight - p.padInfo.top;
      for (let yc = 0; yc < ow; yc++) {
        const c0 = yc * p.strideWidth - p.padInfo.left;
        const dyBase = ((b * oh + yr) * ow + yc) * c;
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let bestIdx = -1;
          for (let i = 0; i < p.filterHeight; i++) {
            const r = r0 + i;
            if (r < 0 || r >= h) continue;
            for (let j = 0; j < p.filterWidth; j++) {
              const col = c0 + j;
              if (col < 0 || col >= w) continue;
              const idx = ((b * h + r) * w + col) * c + ch;
              if (x[idx] > best || bestIdx < 0) { best = x[idx]; bestIdx = idx; }
            }
          }
          if (bestIdx >= 0) dx[bestIdx] += dy[dyBase + ch];
        }
      }
    }
  }
  return out;
}

/** True when wasm's built-in MaxPoolGrad routes gradients correctly on an all-negative window. */
function builtinMaxPoolGradIsCorrect(backend: BackendWasm): boolean {
  const kernel = tf.getKernel('MaxPoolGrad', 'wasm');
  if (!kernel) return false;
  return tf.tidy(() => {
    const input = tf.tensor4d([-1, -2, -3, -4, -5, -6, -7, -8, -9], [1, 3, 3, 1]);
    const dy = tf.tensor4d([1, 10, 100, 1000], [1, 2, 2, 1]);
    const output = tf.maxPool(input, 2, 1, 'valid');
    const res = kernel.kernelFunc({
      inputs: { dy, input, output }, backend, attrs: { filterSize: 2, strides: 1, pad: 'valid' },
    }) as Info;
    const got = Array.from(backend.readSync(res.dataId) as Float32Array);
    backend.disposeData(res.dataId);
    const want = [1, 10, 0, 100, 1000, 0, 0, 0, 0];
    return want.every((v, i) => got[i] === v);
  });
}

/** Releases whose built-in Conv2DBackpropInput is the slow scalar loop (measured on 4.22.0). */
const SLOW_BACKPROP_INPUT_VERSIONS = new Set(['4.22.0']);

/**
 * Registers the replacements on the wasm backend. Call after `tf.setBackend('wasm')` resolved
 * (the MaxPoolGrad probe runs on it). Returns what was registered; idempotent.
 */
export function registerWasmTrainingKernels(): string[] {
  const backend = tf.findBackend('wasm') as BackendWasm | null;
  if (!backend || tf.getBackend() !== 'wasm') {
    throw new Error('registerWasmTrainingKernels: call after `await tf.setBackend(\'wasm\')`');
  }
  const added: string[] = [];
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc });
    added.push('Conv2DBackpropFilter');
  }
  const input = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (!input || (SLOW_BACKPROP_INPUT_VERSIONS.has(version_wasm) && input.kernelFunc !== (conv2DBackpropInputWasm as unknown))) {
    if (input) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2DBackpropInputWasm as unknown as tf.KernelFunc });
    added.push('Conv2DBackpropInput');
  }
  const current = tf.getKernel('MaxPoolGrad', 'wasm');
  if (current?.kernelFunc !== (maxPoolGradWasm as unknown) && !builtinMaxPoolGradIsCorrect(backend)) {
    if (current) tf.unregisterKernel('MaxPoolGrad', 'wasm');
    tf.registerKernel({ kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGradWasm as unknown as tf.KernelFunc });
    added.push('MaxPoolGrad');
  }
  return added;
}
