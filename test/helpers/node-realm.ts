/**
 * Import in jest tests that run onnxruntime-node in-process.
 *
 * Jest runs each test file in a vm context with its own typed-array constructors. onnxruntime-node's
 * native binding returns Node-realm Float32Arrays, and onnxruntime-common checks tensor data with
 * `instanceof` against the context's constructor ("A float32 tensor's data must be type of
 * Float32Array"). Making `instanceof` a realm-independent brand check fixes both directions.
 * Production code (and the training worker, a real Node thread) never needs this.
 */
const names = ['Float32Array', 'Float64Array', 'Int8Array', 'Int16Array', 'Int32Array', 'Uint8Array', 'Uint8ClampedArray',
  'Uint16Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'] as const;

for (const name of names) {
  const ctor = (globalThis as unknown as Record<string, object>)[name];
  Object.defineProperty(ctor, Symbol.hasInstance, {
    configurable: true,
    // Subclasses inherit this method (`x instanceof Buffer`): they keep the ordinary check.
    value: function (this: unknown, v: unknown): boolean {
      if (Function.prototype[Symbol.hasInstance].call(this, v)) return true;
      return this === ctor && ArrayBuffer.isView(v) && Object.prototype.toString.call(v) === `[object ${name}]`;
    },
  });
}

export {};
