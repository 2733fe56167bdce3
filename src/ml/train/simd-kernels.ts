/**
 * Kernels from kernels/kernels.c (128-bit wasm SIMD), run directly on the tfjs wasm backend's
 * heap: the module imports the backend's WebAssembly.Memory, so tensors are read and written in
 * place by address. Registered by wasm-kernels.ts for the ops that dominate a training step.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Ptr = number;

/** The few WebAssembly JS API types used here (the project's TypeScript lib has no DOM/wasm typings). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};
interface WasmGlobal { value: number }
export interface SimdKernels {
  conv2d_filter_grad(x: Ptr, dy: Ptr, dw: Ptr, n: number, h: number, w: number, c: number, oh: number, ow: number, f: number,
    kh: number, kw: number, padT: number, padL: number): void;
  max_pool_grad(x: Ptr, dy: Ptr, dx: Ptr, n: number, h: number, w: number, c: number, oh: number, ow: number,
    kh: number, kw: number, sh: number, sw: number, padT: number, padL: number): void;
  sum_leading(input: Ptr, out: Ptr, rows: number, cols: number): void;
  batch_matmul(a: Ptr, b: Ptr, c: Ptr, batch: number, m: number, k: number, n: number, ta: number, tb: number, sa: number, sb: number): void;
}

/** Stack for the C code, carved out of the tfjs heap (the module has none of its own). */
const STACK_BYTES = 64 * 1024;

/** kernels.wasm: next to this file in the source tree; from dist/, the same path under the package root. */
export function kernelsWasmPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'kernels', 'kernels.wasm'), path.resolve(here, '../../../../src/ml/train/kernels/kernels.wasm')];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`kernels.wasm not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** Section ids of a wasm binary (to check it carries no data segment before it touches tfjs's memory). */
export function wasmSectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let p = 8;
  while (p < bytes.length) {
    ids.push(bytes[p++]!);
    let size = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[p++]!;
      size |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    p += size;
  }
  return ids;
}

const instances = new WeakMap<BackendWasm, SimdKernels>();

/** The kernels bound to `backend`'s heap (instantiated once per backend). */
export function simdKernels(backend: BackendWasm): SimdKernels {
  const cached = instances.get(backend);
  if (cached) return cached;
  const bytes = fs.readFileSync(kernelsWasmPath());
  // A data segment would be copied into tfjs's heap at instantiation and overwrite its tensors.
  if (wasmSectionIds(bytes).includes(11)) throw new Error('kernels.wasm has a data section; it must own no static data');
  const mod = backend.wasm as unknown as { asm: { memory: object }; _malloc(n: number): number };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: mod.asm.memory } });
  const exports = instance.exports as unknown as SimdKernels & { __stack_pointer: WasmGlobal };
  const stack = mod._malloc(STACK_BYTES);
  exports.__stack_pointer.value = (stack + STACK_BYTES) & ~15;
  instances.set(backend, exports);
  return exports;
}

/** Byte address of a tensor's data in the tfjs heap. */
export function heapAddress(backend: BackendWasm, dataId: object): number {
  const entry = (backend as unknown as { dataIdMap: { get(id: object): { memoryOffset: number } | undefined } }).dataIdMap.get(dataId);
  if (!entry) throw new Error('tensor is not on the wasm backend');
  return entry.memoryOffset;
}
