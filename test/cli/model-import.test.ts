// `assay model import` as an operator runs it (src/cli/main.ts through tsx) against a real
// database: the reference detector and its local dataset become version 1 of a lineage with its
// evaluation queued; a non-conforming file exits 1 with one line and creates nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase } from '../../src/db/database.js';
import { systemActor } from '../../src/services/audit.js';
import { seedCatalog } from '../../src/services/seed-service.js';
import { createTestDatabase } from '../helpers/database.js';
import { tinyDetectorOnnx } from '../helpers/detector-onnx.js';

const CASE = path.resolve('test/fixtures/detect-eval/case_public');
const MODEL = path.join(CASE, 'model.onnx');
const DATASET = path.join(CASE, 'dataset/coco.json');
const SLOW = 240_000;

let dir: string;
let env: Record<string, string>;
let cleanup = async () => {};

function assay(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { PATH: process.env.PATH!, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const db = await openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { embeddedDir: path.join(dir, 'db') });
  try {
    return await db.dataSource.query(sql);
  } finally {
    await db.close();
  }
}

const counts = () =>
  query(`SELECT (SELECT count(*)::int FROM models) AS models, (SELECT count(*)::int FROM model_trainings) AS trainings,
                (SELECT count(*)::int FROM datasets) AS datasets, (SELECT count(*)::int FROM training_lineages) AS lineages,
                (SELECT count(*)::int FROM audit_log) AS audit`).then((r) => r[0]);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-model-import-'));
  env = { ASSAY_DATA_DIR: dir };
  if (process.env.DATABASE_URL) {
    const db = await createTestDatabase();
    env.DATABASE_URL = db.url!;
    cleanup = () => db.close();
  }
  const setup = await openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { embeddedDir: path.join(dir, 'db') });
  await migrate(setup);
  await seedCatalog(setup.dataSource.manager, systemActor, { demoKits: true });
  await setup.close();
}, 60_000);

afterAll(async () => {
  await cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('assay model import', () => {
  it('--help says what it does', () => {
    const r = assay(['model', 'import', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: assay model import --file MODEL\.onnx --kit KIT/);
    expect(r.out).toMatch(/yolo export format=onnx/);
    expect(assay(['--help']).out).toMatch(/assay model import --file MODEL\.onnx/);
  }, SLOW);

  it('imports the reference detector as version 1 of a new lineage and queues its evaluation', async () => {
    const r = assay(['model', 'import', '--file', MODEL, '--kit', '4567', '--dataset', DATASET, '--name', 'lights_yolo']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Imported model\.onnx as lights_yolo_l[0-9a-f]{11}_v1 \(version 1 of lineage lights_yolo, training id l[0-9a-f]{11}\)\.\n/);
    expect(r.out).toContain('3 classes (red_light, yellow_light, green_light), input 320x320');
    expect(r.out).toContain('serves: green_light, red_light');
    expect(r.out).toContain(': 76 test image(s)\nEvaluation queued'); // no warnings: train/val splits do not matter here
    expect(r.out).toMatch(/Evaluation queued \(model [0-9a-f-]{36}\)/);

    const [m] = await query<{ id: string; status: string; trainer: string; requested_by: string; ds: string }>(
      `SELECT m.id, m.status, t.trainer, t.requested_by, d.status AS ds FROM models m JOIN model_trainings t ON t.uid = m.training_uid JOIN datasets d ON d.id = t.dataset_id`,
    );
    expect(m).toMatchObject({ status: 'draft', trainer: 'import', ds: 'valid' });
    expect(m!.requested_by).toMatch(/^cli:/);
    // The evaluation job waits in Agenda's table for a worker.
    const jobs = await query<{ data: { modelId: string } }>(`SELECT data FROM agenda_jobs WHERE name = 'model.evaluate'`);
    expect(jobs.map((j) => j.data.modelId)).toEqual([m!.id]);
  }, SLOW);

  it('refuses a non-conforming file with one line and exit 1, creating nothing', async () => {
    const before = await counts();
    const wrong = path.join(dir, 'wrong.onnx');
    fs.writeFileSync(wrong, tinyDetectorOnnx({ names: ['red_light', 'green_light'], outputDims: [1, 9, 4] }));
    const r = assay(['model', 'import', '--file', wrong, '--kit', '4567', '--dataset', DATASET]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^assay: The model is not an Ultralytics-layout detector \(yolo export format=onnx\): output .*\n$/);
    expect(r.err.split('\n')).toHaveLength(2);

    const cut = path.join(dir, 'cut.onnx');
    fs.writeFileSync(cut, fs.readFileSync(MODEL).subarray(0, 1000));
    const t = assay(['model', 'import', '--file', cut, '--kit', '4567', '--dataset', DATASET]);
    expect(t.code).toBe(1);
    expect(t.err).toMatch(/^assay: .*truncated or not ONNX.*\n$/);

    const odd = path.join(dir, 'odd.onnx');
    fs.writeFileSync(odd, tinyDetectorOnnx({ names: ['red_light', 'green_light', 'purple_light'] }));
    const c = assay(['model', 'import', '--file', odd, '--kit', '4567', '--dataset', DATASET]);
    expect(c.code).toBe(1);
    expect(c.err).toMatch(/^assay: Model class missing from the dataset's categories: purple_light \(the dataset has: yellow_light, red_light, green_light\)\n$/);

    env.DATASET_MAX_BYTES = String(100 * 1024);
    try {
      const over = assay(['model', 'import', '--file', MODEL, '--kit', '4567', '--dataset', DATASET]);
      expect(over.code).toBe(1);
      expect(over.err).toBe('assay: The model file is 0.7 MB; the limit is 0.1 MB (DATASET_MAX_BYTES)\n');
    } finally {
      delete env.DATASET_MAX_BYTES;
    }
    expect(await counts()).toEqual(before);
  }, SLOW);
});
