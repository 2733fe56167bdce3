// Loads every native or WebAssembly dependency under the running Node and says which one fails.
// .ci/run calls it before the suite on a Node other than the one that installed node_modules.
const checks = {
  sharp: async () => {
    const { default: sharp } = await import('sharp');
    await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).png().toBuffer();
    return `libvips ${sharp.versions.vips}`;
  },
  'onnxruntime-node': async () => {
    const ort = await import('onnxruntime-node');
    return typeof ort.InferenceSession?.create === 'function' ? 'loaded' : 'no InferenceSession';
  },
  '@electric-sql/pglite': async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create();
    const { rows } = await db.query('SELECT 1 AS one');
    await db.close();
    return rows[0].one === 1 ? 'query ok' : 'bad answer';
  },
  '@tensorflow/tfjs-backend-wasm': async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    return 'loaded';
  },
};
let failed = false;
for (const [name, check] of Object.entries(checks)) {
  try {
    console.log(`${name}: ${await check()}`);
  } catch (e) {
    failed = true;
    console.log(`${name}: FAILS on Node ${process.version}: ${String(e?.message ?? e).split('\n')[0]}`);
  }
}
console.log(`Node ${process.version} (ABI ${process.versions.modules}, N-API ${process.versions.napi})`);
process.exit(failed ? 1 : 0);
