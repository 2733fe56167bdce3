// Module-resolution hook for test/app/lazy-ml.test.ts: reports every import of a heavy package.
export async function resolve(specifier, context, next) {
  if (/^(sharp|onnxruntime-node|@tensorflow\/|jsforce)(\/|$)/.test(specifier)) {
    process.stderr.write(`HEAVY ${specifier}\n`);
  }
  return next(specifier, context);
}
