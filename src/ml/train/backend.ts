/**
 * Picks the TF.js backend for training: tfjs-node (native TensorFlow) when it is installed,
 * else the wasm backend (XNNPACK, plus our missing gradient kernels), else plain 'cpu'
 * (~100× slower for CNN training, 89% of it in Conv2DBackpropFilter).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  name: string;
  reason: string;
  /** Kernels we registered on wasm (empty for other backends). */
  addedKernels: string[];
}

export interface BackendLogger {
  info(obj: object, msg?: string): void;
}

const consoleLogger: BackendLogger = { info: (obj, msg) => console.info(`[ml] ${msg ?? ''}`, obj) };

let wasmPathsSet = false;

/** The wasm binaries ship in the package's dist/; pointing there means nothing is fetched. */
export function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

async function tryTensorflow(): Promise<string | null> {
  const moduleName = '@tensorflow/tfjs-node'; // a variable so TypeScript does not need the (absent) types
  try {
    await import(moduleName);
  } catch (err) {
    return `tfjs-node unavailable (${(err as Error).message.split('\n')[0]})`;
  }
  return (await tf.setBackend('tensorflow')) ? null : 'tfjs-node imported but the tensorflow backend failed to initialise';
}

async function tryWasm(): Promise<{ error: string | null; added: string[] }> {
  try {
    if (!wasmPathsSet) {
      setWasmPaths(wasmDistDir() + path.sep);
      wasmPathsSet = true;
    }
    if (!(await tf.setBackend('wasm'))) return { error: 'wasm backend failed to initialise', added: [] };
    return { error: null, added: registerWasmTrainingKernels() };
  } catch (err) {
    return { error: `wasm backend failed: ${(err as Error).message}`, added: [] };
  }
}

/** Activates a backend and logs which one (and why). 'auto' falls back tensorflow → wasm → cpu. */
export async function selectBackend(preference: BackendPreference = 'auto', logger: BackendLogger = consoleLogger): Promise<BackendChoice> {
  const notes: string[] = [];
  let choice: BackendChoice | null = null;
  if (preference === 'auto' || preference === 'tensorflow') {
    const err = await tryTensorflow();
    if (err === null) choice = { name: 'tensorflow', reason: 'tfjs-node available', addedKernels: [] };
    else notes.push(err);
  }
  if (!choice && (preference === 'auto' || preference === 'wasm')) {
    const { error, added } = await tryWasm();
    if (error === null) choice = { name: 'wasm', reason: 'XNNPACK wasm backend', addedKernels: added };
    else notes.push(error);
  }
  if (!choice) {
    await tf.setBackend('cpu');
    // Silence tfjs's one-off "install tfjs-node" banner: the log line below already says why we are on cpu.
    const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu) cpu.firstUse = false;
    choice = { name: 'cpu', reason: 'fallback: plain JS kernels (slow)', addedKernels: [] };
  }
  await tf.ready();
  if (notes.length) choice.reason += `; ${notes.join('; ')}`;
  logger.info({ backend: choice.name, reason: choice.reason, addedKernels: choice.addedKernels }, `tfjs backend: ${choice.name}`);
  return choice;
}
