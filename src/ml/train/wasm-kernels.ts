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
 * - Speed: the stride-1 filter gradient (the largest share of a step), MaxPoolGrad and
 *   BatchMatMul run as SIMD C (kernels/kernels.c) on the wasm heap; other cases keep the paths above.
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapAddress, simdKernels } from './simd-kernels.js';

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

/** Conv2DBackpropFilter: SIMD C for NHWC stride 1 (every conv of the classifier and detector), else the XNNPACK path. */
export function conv2DBackpropFilterSimd(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): Info {
  const { backend } = args;
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const x = args.inputs.x as Info;
  const dy = args.inputs.dy as Info;
  if (attrs.dataFormat === 'NCHW') return conv2DBackpropFilterWasm(args);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return conv2DBackpropFilterWasm(args);
  const out = backend.makeOutput(attrs.filterShape, 'float32');
  const [n, h, w, c] = x.shape;
  simdKernels(backend).conv2d_filter_grad(heapAddress(backend, x.dataId), heapAddress(backend, dy.dataId), heapAddress(backend, out.dataId),
    n, h, w, c, info.outHeight, info.outWidth, info.outChannels, info.filterHeight, info.filterWidth, info.padInfo.top, info.padInfo.left);
  return out;
}

/** MaxPoolGrad in SIMD C, same semantics as maxPoolGradWasm (first maximum of each window gets the gradient). */
export function maxPoolGradSimd(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): Info {
  const { backend } = args;
  const attrs = args.attrs as unknown as PoolGradAttrs;
  const input = args.inputs.input as Info;
  const dy = args.inputs.dy as Info;
  const p = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const out = backend.makeOutput(input.shape, 'float32');
  if (p.inChannels * p.inHeight * p.inWidth * p.batchSize === 0) return out;
  simdKernels(backend).max_pool_grad(heapAddress(backend, input.dataId), heapAddress(backend, dy.dataId), heapAddress(backend, out.dataId),
    p.batchSize, p.inHeight, p.inWidth, p.inChannels, p.outHeight, p.outWidth, p.filterHeight, p.filterWidth,
    p.strideHeight, p.strideWidth, p.padInfo.top, p.padInfo.left);
  return out;
}

/** wasm 4.22's own Sum, for the reductions sumLeadingSimd does not take. */
let builtinSum: tf.KernelFunc | null = null;

/**
 * Sum over leading axes (a bias gradient: dy [N,H,W,C] → [C]) in SIMD C; 4.22's Sum first
 * transposes the whole tensor so the reduced axes are innermost. Other reductions keep the built-in.
 */
export function sumSimd(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): Info {
  const { backend } = args;
  const x = args.inputs.x as Info;
  const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) {
    if (!builtinSum) throw new Error('no Sum kernel');
    return builtinSum({ inputs: args.inputs, backend, attrs: args.attrs as tf.NamedAttrMap }) as Info;
  }
  const rows = x.shape.slice(0, axes.length).reduce((p, v) => p * v, 1);
  const rest = x.shape.slice(axes.length);
  const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...rest] : rest, 'float32');
  const cols = rest.reduce((p, v) => p * v, 1);
  if (cols === 0) return out;
  simdKernels(backend).sum_leading(heapAddress(backend, x.dataId), heapAddress(backend, out.dataId), rows, cols);
  return out;
}

/** wasm 4.22's own BatchMatMul, kept for the cases the SIMD kernel does not take (batch broadcasting across ranks). */
let builtinBatchMatMul: tf.KernelFunc | null = null;

/** BatchMatMul in SIMD C: float32, equal batch sizes or one side a single matrix. */
export function batchMatMulSimd(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): Info {
  const { backend } = args;
  const a = args.inputs.a as Info;
  const b = args.inputs.b as Info;
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const batchOf = (t: Info) => t.shape.slice(0, -2).reduce((p, v) => p * v, 1);
  const [ba, bb] = [batchOf(a), batchOf(b)];
  const fallback = () => {
    if (!builtinBatchMatMul) throw new Error('no BatchMatMul for these shapes');
    return builtinBatchMatMul({ inputs: args.inputs, backend, attrs: args.attrs as tf.NamedAttrMap }) as Info;
  };
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || (ba !== bb && ba !== 1 && bb !== 1)) return fallback();
  const batchShape = (ba >= bb ? a : b).shape.slice(0, -2);
  if (ba === bb && a.shape.length !== b.shape.length) return fallback();
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const [k2, n] = transposeB ? [bc, br] : [br, bc];
  if (k !== k2) throw new Error(`BatchMatMul: inner dimensions ${k} and ${k2} differ`);
  const out = backend.makeOutput([...batchShape, m, n], 'float32');
  const batch = Math.max(ba, bb);
  if (batch * m * n === 0) return out;
  simdKernels(backend).batch_matmul(heapAddress(backend, a.dataId), heapAddress(backend, b.dataId), heapAddress(backend, out.dataId),
    batch, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0, ba === 1 ? 0 : m * k, bb === 1 ? 0 : k * n);
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
/** Releases whose MaxPoolGrad / BatchMatMul / Sum the SIMD kernels outrun (measured on 4.22.0). */
const SIMD_FASTER_VERSIONS = new Set(['4.22.0']);

/** Replaces `name` on wasm with `fn` unless it is already registered; returns whether it did. */
function replaceKernel(name: string, fn: unknown): boolean {
  const current = tf.getKernel(name, 'wasm');
  if (current?.kernelFunc === fn) return false;
  if (current) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: fn as tf.KernelFunc });
  return true;
}

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
  const filter = tf.getKernel('Conv2DBackpropFilter', 'wasm');
  if (!filter || filter.kernelFunc === (conv2DBackpropFilterWasm as unknown)) {
    if (replaceKernel('Conv2DBackpropFilter', conv2DBackpropFilterSimd)) added.push('Conv2DBackpropFilter');
  }
  const input = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (!input || (SLOW_BACKPROP_INPUT_VERSIONS.has(version_wasm) && input.kernelFunc !== (conv2DBackpropInputWasm as unknown))) {
    if (replaceKernel('Conv2DBackpropInput', conv2DBackpropInputWasm)) added.push('Conv2DBackpropInput');
  }
  const pool = tf.getKernel('MaxPoolGrad', 'wasm');
  if (pool?.kernelFunc !== (maxPoolGradSimd as unknown) && (SIMD_FASTER_VERSIONS.has(version_wasm) || !builtinMaxPoolGradIsCorrect(backend))) {
    if (replaceKernel('MaxPoolGrad', maxPoolGradSimd)) added.push('MaxPoolGrad');
  }
  const matmul = tf.getKernel('BatchMatMul', 'wasm');
  if (matmul && matmul.kernelFunc !== (batchMatMulSimd as unknown) && SIMD_FASTER_VERSIONS.has(version_wasm)) {
    builtinBatchMatMul = matmul.kernelFunc;
    if (replaceKernel('BatchMatMul', batchMatMulSimd)) added.push('BatchMatMul');
  }
  const sum = tf.getKernel('Sum', 'wasm');
  if (sum && sum.kernelFunc !== (sumSimd as unknown) && SIMD_FASTER_VERSIONS.has(version_wasm)) {
    builtinSum = sum.kernelFunc;
    if (replaceKernel('Sum', sumSimd)) added.push('Sum');
  }
  return added;
}
