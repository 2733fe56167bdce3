import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kernelsWasmPath, wasmSectionIds } from '../../../src/ml/train/simd-kernels.js';

// The project's TypeScript lib has no WebAssembly typings; the two calls used here.
declare const WebAssembly: {
  Module: { new (bytes: Uint8Array): object; imports(m: object): Array<{ module: string; name: string; kind: string }> };
};

const buildScript = path.resolve('src/ml/train/kernels/build.sh');
const hasClang = (() => {
  try {
    execFileSync('clang', ['--version'], { stdio: 'ignore' });
    execFileSync('wasm-ld', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('kernels.wasm', () => {
  it('owns no static data (a data segment would overwrite the tfjs heap it shares) and imports only memory', () => {
    const bytes = fs.readFileSync(kernelsWasmPath());
    expect(wasmSectionIds(bytes)).not.toContain(11);
    const mod = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(mod)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
  });

  // The committed binary must be what kernels.c builds to. Needs Debian's clang + lld
  // (`apt-get install clang lld`); without them this says so and checks nothing else.
  it('is reproduced byte for byte from kernels.c by build.sh', () => {
    if (!hasClang) {
      console.warn('clang/wasm-ld not installed: cannot rebuild kernels.wasm to compare (apt-get install clang lld)');
      return;
    }
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'assay-kernels-')), 'kernels.wasm');
    execFileSync('sh', [buildScript, out]);
    expect(Buffer.compare(fs.readFileSync(out), fs.readFileSync(kernelsWasmPath()))).toBe(0);
  });
});
