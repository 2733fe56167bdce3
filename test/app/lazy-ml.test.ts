// The web and worker processes start without the ML stack (TF.js, ONNX Runtime, sharp) or
// jsforce: each loads on first use, which keeps an idle `assay start` small.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const hook = pathToFileURL(path.resolve('test/helpers/heavy-import-hook.mjs')).href;

/** Imports `modules` in a fresh Node process (through tsx); returns the heavy packages resolved meanwhile. */
function heavyImports(modules: string[]): string[] {
  const register = `import { register } from 'node:module'; register(${JSON.stringify(hook)});`;
  // ESM imports are seen by the hook; CommonJS packages (TF.js, sharp, ORT are) also land in the require cache.
  const report = `const { default: Module } = await import('node:module');
for (const f of Object.keys(Module._cache)) { const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f); if (m) process.stderr.write('LOADED ' + m[1] + '\\n'); }
process.exit(0);`;
  const script = modules.map((m) => `await import(${JSON.stringify(pathToFileURL(path.resolve(m)).href)});`).join('\n') + '\n' + report;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
  const heavy = /^(sharp|onnxruntime-node|@tensorflow\/[^/]+|jsforce)$/;
  const names = r.stderr.split('\n').flatMap((l) => (l.startsWith('HEAVY ') ? [l.slice(6)] : l.startsWith('LOADED ') ? [l.slice(7)] : []));
  return [...new Set(names.filter((n) => heavy.test(n) || n.startsWith('@tensorflow/')))].sort();
}

describe('lazy loading of the ML stack', () => {
  it('sees a heavy import when there is one (the check itself works)', () => {
    expect(heavyImports(['src/ml/train/trainer.ts'])).toContain('@tensorflow/tfjs');
  });

  it('bootstrap, every job handler, the services that train/evaluate/validate and the Salesforce client import none', () => {
    expect(heavyImports([
      'src/app/bootstrap.ts', 'src/jobs/handlers/index.ts', 'src/jobs/training/tfjs-training.ts', 'src/services/evaluation-service.ts',
      'src/services/dataset-service.ts', 'src/datasets/image-source.ts', 'src/salesforce/client.ts',
    ])).toEqual([]);
  });
});
