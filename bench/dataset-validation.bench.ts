// Benchmark: dataset intake throughput (images/s) on a 2,000-image synthetic COCO set served over
// local HTTP: SSRF-checked fetch + full sharp decode + content-addressed store + report + snapshot.
// Baseline: plain fetch of the same images at the same concurrency (the network/IO floor).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import type { Dataset } from '../src/db/entities/index.js';
import { intakeDataset } from '../src/services/dataset-service.js';
import { LocalArtifactStore } from '../src/storage/artifact-store.js';

const IMAGES = 2000;
const SIZE = 64;
const RUNS = 3;

async function syntheticSet() {
  const images: Buffer[] = [];
  for (let i = 0; i < IMAGES; i++) {
    images.push(await sharp({ create: { width: SIZE, height: SIZE, channels: 3, background: { r: i % 256, g: (i * 7) % 256, b: (i * 13) % 256 } } }).png().toBuffer());
  }
  const splits = ['train', 'train', 'train', 'train', 'train', 'train', 'train', 'train', 'val', 'test'] as const;
  const coco = {
    images: images.map((_, i) => ({ id: i + 1, file_name: `img/${i + 1}.png`, width: SIZE, height: SIZE, split: splits[i % 10] })),
    annotations: images.map((_, i) => ({ id: i + 1, image_id: i + 1, category_id: (i % 2) + 1, bbox: [4, 4, 24, 24] })),
    categories: [{ id: 1, name: 'red_light' }, { id: 2, name: 'green_light' }],
  };
  return { images, json: Buffer.from(JSON.stringify(coco)) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<Record<string, unknown>> {
  const set = await syntheticSet();
  const server = http.createServer((req, res) => {
    if (req.url === '/coco.json') {
      res.setHeader('content-type', 'application/json');
      return void res.end(set.json);
    }
    const m = /^\/img\/(\d+)\.png$/.exec(req.url ?? '');
    const img = m ? set.images[Number(m[1]) - 1] : undefined;
    if (!img) return void res.writeHead(404).end();
    res.setHeader('content-type', 'image/png');
    res.end(img);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const intakeMs: number[] = [];
  const baselineMs: number[] = [];
  let valid = false;
  try {
    for (let r = 0; r < RUNS; r++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-bench-ds-'));
      const dataset = { source: 'url', sourceUri: `${base}/coco.json` } as Dataset;
      const t0 = performance.now();
      const result = await intakeDataset(dataset, ['green_light', 'red_light'], { datasetId: '00000000-0000-4000-8000-000000000000', trainingUid: '00000000-0000-4000-8000-000000000000' }, {
        config: { fetch: { maxBytes: 50 * 1024 * 1024, timeoutMs: 60_000, allowHttp: true, allowPrivate: true }, images: { maxPixels: 40_000_000, concurrency: 2 }, slack: undefined },
        artifacts: new LocalArtifactStore(dir),
      });
      intakeMs.push(performance.now() - t0);
      valid = result.report.valid && !!result.snapshot;
      fs.rmSync(dir, { recursive: true, force: true });

      const t1 = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < IMAGES) {
          const i = ++next;
          await (await fetch(`${base}/img/${i}.png`)).arrayBuffer();
        }
      }));
      baselineMs.push(performance.now() - t1);
    }
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  const intake = median(intakeMs);
  const baseline = median(baselineMs);
  return {
    images: IMAGES,
    imageSize: `${SIZE}x${SIZE} PNG`,
    runs: RUNS,
    reportValid: valid,
    intakeMedianMs: Math.round(intake),
    intakeImagesPerSecond: Math.round(IMAGES / (intake / 1000)),
    baselinePlainFetchMedianMs: Math.round(baseline),
    baselineImagesPerSecond: Math.round(IMAGES / (baseline / 1000)),
    intakeOverBaseline: Math.round((intake / baseline) * 10) / 10,
    runsMs: intakeMs.map(Math.round),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
