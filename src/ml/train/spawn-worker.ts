/** Starts a worker_threads Worker on a sibling module, from dist/ (.js) or from the source tree (.ts via tsx). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * tsx's ESM register API, resolved from this package (not the cwd) via tsx's exports map:
 * require.resolve would pick the CommonJS build, whose register() cannot load .ts ESM.
 */
function tsxEsmApiUrl(from: string): string {
  const pkgPath = createRequire(from).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const target = pkg.exports['./esm/api']?.import?.default;
  if (!target) throw new Error(`cannot find tsx's ESM API in ${pkgPath}`);
  return new URL(target, pathToFileURL(pkgPath)).href;
}

/** `name` resolved next to `from` with `from`'s own extension (.ts in the source tree, .js in dist/). */
export function siblingModule(from: string, name: string): URL {
  return new URL(`./${name}${from.endsWith('.ts') ? '.ts' : '.js'}`, from);
}

/**
 * From dist/ the entry is the compiled .js. From the source tree it is the .ts, loaded through
 * tsx. `execArgv: ['--import', 'tsx']` does not work on Node 20 (the hooks it registers never
 * apply to the worker's entry module: ERR_UNKNOWN_FILE_EXTENSION), so a two-line eval bootstrap
 * registers tsx's ESM API in the worker and then imports the entry.
 */
export function startModuleWorker(entry: URL, options: WorkerOptions): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsxApi = tsxEsmApiUrl(entry.href);
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** A transferable ArrayBuffer (not a SharedArrayBuffer); realm-independent, unlike instanceof. */
export function isPlainArrayBuffer(b: ArrayBufferLike): b is ArrayBuffer {
  return Object.prototype.toString.call(b) === '[object ArrayBuffer]';
}

/** The ArrayBuffers behind `arrays` (each once), for a postMessage/Worker transfer list. */
export function buffersOf(arrays: ArrayBufferView[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) if (isPlainArrayBuffer(a.buffer) && a.buffer.byteLength > 0) out.add(a.buffer);
  return [...out];
}
