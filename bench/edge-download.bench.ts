// Artifact download through the edge API (bearer token + signed URL, streamed from local
// artifact storage) vs reading the same file from disk, and memory while streaming 200 MB.
// Runs the real server (web role, embedded database) in this process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { startAssay } from '../src/app/bootstrap.js';
import { createLogger } from '../src/app/logger.js';
import { seedCatalog } from '../src/services/seed-service.js';
import { systemActor } from '../src/services/audit.js';
import { findOrCreateLineage } from '../src/services/lineage-service.js';
import { createModelVersion } from '../src/services/model-service.js';
import { transition } from '../src/services/transitions.js';
import { addEdge } from '../src/services/edge-service.js';

const SIZE_MB = Number(process.env.BENCH_ARTIFACT_MB ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Discards a byte stream, counting it (what an edge does before hashing/writing). */
async function drain(stream: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += chunk.byteLength;
  return n;
}

export async function run(): Promise<Record<string, unknown>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-bench-edge-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ASSAY_DATA_DIR: dataDir, NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  const assay = await startAssay(config, { web: true, worker: false, logger: createLogger('silent') });
  try {
    const ds = assay.ctx.db.dataSource;
    await seedCatalog(ds.manager, systemActor, { demoKits: true });
    // A 200 MB artifact, written to storage as a stream (never whole in memory).
    const bytes = SIZE_MB * 1024 * 1024;
    const source = Readable.from((function* () {
      for (let left = bytes; left > 0; left -= 1 << 20) yield randomBytes(Math.min(left, 1 << 20));
    })());
    const artifact = await assay.ctx.artifacts.put(source, { kind: 'model' });
    const model = await ds.transaction(async (tx) => {
      const [{ uid }] = await tx.query(`SELECT uid FROM ai_options WHERE name = 'red_light'`);
      const lineage = await findOrCreateLineage(tx, [uid], 'bench');
      const m = await createModelVersion(tx, { lineageId: lineage.id, trainingUid: null, labels: ['red'], s3ModelPath: artifact.path, artifactSha256: artifact.sha256, artifactSize: artifact.size }, systemActor);
      for (const to of ['evaluating', 'pending_approval'] as const) await transition(tx, 'model', m.id, to, systemActor);
      await transition(tx, 'model', m.id, 'approved', systemActor, { approvedBy: 'UBENCH', approvedAt: new Date() });
      return m;
    });
    const { token } = await addEdge(ds.manager, 'bench-edge', systemActor);
    const auth = { authorization: `Bearer ${token}` };
    const file = path.join(config.storage.dir, artifact.path);

    const viaApi = async () => {
      const link = await (await fetch(`${assay.url}/api/v1/edge/models/${model.id}/download-url`, { headers: auth })).json() as { url: string };
      const u = new URL(link.url);
      const res = await fetch(`${assay.url}${u.pathname}${u.search}`, { headers: auth });
      if (res.status !== 200 || !res.body) throw new Error(`download failed: ${res.status}`);
      return drain(res.body as unknown as AsyncIterable<Uint8Array>);
    };
    const fromDisk = () => drain(fs.createReadStream(file, { highWaterMark: 64 * 1024 }));

    // Warm-up (page cache, JIT, connection), then alternate so neither side gets the warmer cache.
    await fromDisk();
    await viaApi();
    const disk: number[] = [];
    const api: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      if ((await fromDisk()) !== bytes) throw new Error('short disk read');
      disk.push(performance.now() - t);
      t = performance.now();
      if ((await viaApi()) !== bytes) throw new Error('short download');
      api.push(performance.now() - t);
    }

    // Memory while streaming: sample this process (server and client both live here).
    globalThis.gc?.();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 10);
    await viaApi();
    clearInterval(sampler);

    const mbps = (ms: number) => round(SIZE_MB / (ms / 1000));
    const diskMs = median(disk);
    const apiMs = median(api);
    return {
      artifactMB: SIZE_MB,
      runs: RUNS,
      diskReadMedianMs: round(diskMs),
      diskReadMBps: mbps(diskMs),
      edgeApiDownloadMedianMs: round(apiMs),
      edgeApiDownloadMBps: mbps(apiMs),
      throughputRatioApiVsDisk: round(mbps(apiMs) / mbps(diskMs), 3),
      memory: {
        rssBeforeMB: round(before.rss / 2 ** 20),
        rssPeakDuringMB: round(peakRss / 2 ** 20),
        rssGrowthMB: round((peakRss - before.rss) / 2 ** 20),
        heapBeforeMB: round(before.heapUsed / 2 ** 20),
        heapPeakDuringMB: round(peakHeap / 2 ** 20),
        heapGrowthMB: round((peakHeap - before.heapUsed) / 2 ** 20),
        note: `growth while streaming a ${SIZE_MB} MB artifact; flat means far below ${SIZE_MB} MB`,
      },
    };
  } finally {
    await assay.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
