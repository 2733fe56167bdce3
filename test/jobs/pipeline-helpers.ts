// Shared by the job tests: signed trainer requests, tiny PNGs, COCO builders, waiting on rows.
import sharp from 'sharp';
import type { DataSource } from 'typeorm';
import { ModelTraining } from '../../src/db/entities/index.js';
import { signBody } from '../../src/domain/signature.js';
import { slackUser } from '../../src/services/audit.js';
import { seedCatalog } from '../../src/services/seed-service.js';
import { systemActor } from '../../src/services/audit.js';
import { createTraining } from '../../src/services/training-service.js';
import { seeded } from '../helpers/factories.js';
import { waitFor } from '../helpers/wait.js';

export async function png(color: { r: number; g: number; b: number }, size = 32): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: color } }).png().toBuffer();
}

export function signed(secret: string, body: string, ts = Math.floor(Date.now() / 1000)) {
  return { 'content-type': 'application/json', 'x-assay-timestamp': String(ts), 'x-assay-signature': signBody(secret, String(ts), body) };
}

/** COCO with red_light/green_light boxes in every image; splits fixed so train and test both have each label. */
export function coco(files: string[], opts: { categories?: string[]; bbox?: [number, number, number, number]; base?: string } = {}) {
  const categories = (opts.categories ?? ['red_light', 'green_light']).map((name, i) => ({ id: i + 1, name }));
  const splits = ['train', 'train', 'train', 'val', 'test', 'test'] as const;
  const images = files.map((f, i) => ({ id: i + 1, file_name: f, width: 32, height: 32, split: splits[i % splits.length] }));
  const annotations = images.flatMap((im) => categories.map((c, j) => ({ id: im.id * 10 + j, image_id: im.id, category_id: c.id, bbox: opts.bbox ?? [2 + j * 14, 2, 12, 12] })));
  return { ...(opts.base ? { info: { image_base_url: opts.base } } : {}), images, annotations, categories };
}

export async function seedAndTrain(ds: DataSource, name: string, dataset: { source: 'upload' | 'url'; uri: string }, trainer: 'tfjs' | 'remote', hyperparameters: Record<string, unknown> = { epochs: 2, batchSize: 8, learningRate: 0.01, imageSize: 16 }, task: 'detect' | 'classify' = 'classify') {
  if ((await ds.query('SELECT count(*)::int AS n FROM ai_options'))[0].n === 0) await seedCatalog(ds.manager, systemActor, { demoKits: true });
  const { kit, option } = await seeded(ds.manager);
  const req = { kitIds: [kit('4567').id], optionUids: [option('red_light').uid, option('green_light').uid], datasetName: name, dataset, hyperparameters, trainer, task, requestedBy: 'U1' };
  // Once the lineage has a usable model the wizard must say how to train: retrain from scratch here.
  const created = await createTraining(ds.manager, req, slackUser('U1')).catch((e: { field?: string }) => {
    if (e.field === 'version_choice') return createTraining(ds.manager, { ...req, versionChoice: 'retrain' }, slackUser('U1'));
    throw e;
  });
  return { trainingUid: created.training!.uid, datasetId: created.dataset!.id };
}

export async function trainingIn(ds: DataSource, uid: string, statuses: string[], timeoutMs = 20_000): Promise<ModelTraining> {
  return waitFor(`training ${uid} in ${statuses.join('/')}`, async () => {
    const t = await ds.manager.findOneByOrFail(ModelTraining, { uid });
    return statuses.includes(t.status) ? t : null;
  }, timeoutMs);
}
