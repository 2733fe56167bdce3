// Finding 3 of the adversarial review: two processes starting on a fresh data folder produced an
// empty secret in 4 of 40 trials (then signed links can be forged). Now: created atomically and
// owner-only; an empty or short stored secret stops start-up with one line. Artifacts owner-only.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { loadOrCreateSecret } from '../../src/app/secret.js';
import { ConfigError } from '../../src/config/index.js';
import { LocalArtifactStore } from '../../src/storage/artifact-store.js';
import { waitFor } from '../helpers/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-secret-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const mode = (p: string) => fs.statSync(p).mode & 0o777;

/** src/app/secret.ts (and the one module it imports) as plain ES modules, for worker threads. */
function transpiledSecretModule(): string {
  const out = tmp();
  for (const rel of ['app/secret', 'config/errors']) {
    const source = fs.readFileSync(path.join(here, `../../src/${rel}.ts`), 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    fs.mkdirSync(path.dirname(path.join(out, `${rel}.js`)), { recursive: true });
    fs.writeFileSync(path.join(out, `${rel}.js`), js);
  }
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
  return path.join(out, 'app/secret.js');
}

/** `n` threads call loadOrCreateSecret on the same fresh folder at the same instant. */
async function raceCreation(n: number, module: string): Promise<{ secrets: string[]; errors: string[]; dir: string }> {
  const dir = path.join(tmp(), 'data');
  const gate = new SharedArrayBuffer(8);
  const flags = new Int32Array(gate);
  const results: Promise<{ secret?: string; error?: string }>[] = [];
  const workers: Worker[] = [];
  for (let i = 0; i < n; i++) {
    const w = new Worker(path.join(here, 'fixtures/secret-worker.mjs'), { workerData: { module, dir, gate } });
    workers.push(w);
    results.push(new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject))));
  }
  await waitFor('every worker at the gate', () => Atomics.load(flags, 1) >= n, 30_000, 10);
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  const out = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  return { secrets: out.flatMap((o) => (o.secret !== undefined ? [o.secret] : [])), errors: out.flatMap((o) => (o.error ? [o.error] : [])), dir };
}

describe('server secret', () => {
  it('40 simultaneous creations on a fresh folder agree on one complete secret, stored 0600', async () => {
    const module = transpiledSecretModule();
    for (let round = 0; round < 3; round++) {
      const { secrets, errors, dir } = await raceCreation(40, module);
      expect(errors).toEqual([]);
      expect(secrets).toHaveLength(40);
      expect(new Set(secrets).size).toBe(1);
      expect(secrets[0]).toMatch(/^[0-9a-f]{64}$/);
      expect(fs.readFileSync(path.join(dir, 'secret'), 'utf8')).toBe(secrets[0]);
      expect(mode(path.join(dir, 'secret'))).toBe(0o600);
      expect(mode(dir)).toBe(0o700);
      expect(fs.readdirSync(dir)).toEqual(['secret']); // no temp files left behind
    }
  }, 120_000);

  it('an empty or short stored secret is refused with one line; a loose mode is tightened', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'secret'), '');
    expect(() => loadOrCreateSecret(undefined, dir)).toThrow(ConfigError);
    expect(() => loadOrCreateSecret(undefined, dir)).toThrow(/holds a 0-character secret, at least 32 are needed/);
    fs.writeFileSync(path.join(dir, 'secret'), 'short\n');
    expect(() => loadOrCreateSecret(undefined, dir)).toThrow(/holds a 5-character secret/);
    fs.writeFileSync(path.join(dir, 'secret'), 'a'.repeat(40), { mode: 0o644 });
    fs.chmodSync(path.join(dir, 'secret'), 0o644);
    expect(loadOrCreateSecret(undefined, dir)).toBe('a'.repeat(40));
    expect(mode(path.join(dir, 'secret'))).toBe(0o600);
    // ASSAY_SECRET wins over the file.
    expect(loadOrCreateSecret('b'.repeat(32), dir)).toBe('b'.repeat(32));
  });

  it('`assay start` with an empty secret file stops with one line, before opening anything', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'secret'), '');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], { env: { PATH: process.env.PATH!, ASSAY_DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 90_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^assay: configuration error: .*secret holds a 0-character secret, at least 32 are needed/)]);
    expect(fs.existsSync(path.join(dir, 'db'))).toBe(false);
  }, 120_000);
});

describe('artifact files are owner-only', () => {
  it('stored artifacts are 0600 in 0700 folders', async () => {
    const dir = path.join(tmp(), 'artifacts');
    const store = new LocalArtifactStore(dir);
    const put = await store.put(Buffer.from('model bytes'), { kind: 'model' });
    expect(mode(path.join(dir, put.path))).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, 'models'))).toBe(0o700);
    expect(mode(path.join(dir, '.tmp'))).toBe(0o700);
  });
});
