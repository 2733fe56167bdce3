// Issue #8, fault suite: a real Assay process killed with SIGKILL (a) in the middle of a tfjs
// training and (b) in the middle of a deployment (edge downloading). After a restart every record
// ends in a correct state: the training resumes visibly (never stuck in 'training'), the
// deployment continues from the edge's next heartbeat, one active model per kit option.
// Processes take turns on the database, so the same test runs on the embedded one (one owner)
// and on PostgreSQL. Sizes: RELIABILITY_TRAIN_IMAGES, RELIABILITY_TRAIN_EPOCHS, RELIABILITY_ARTIFACT_MB.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openContext, startAssay, type RunningAssay } from '../../src/app/bootstrap.js';
import type { AppContext } from '../../src/app/context.js';
import { createLogger } from '../../src/app/logger.js';
import { loadConfig } from '../../src/config/index.js';
import { AuditLogEntry, Deployment, Model, ModelTraining } from '../../src/db/entities/index.js';
import { stopAgenda } from '../../src/jobs/job-system.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { systemActor } from '../../src/services/audit.js';
import { deployModel } from '../../src/services/deployment-service.js';
import { addEdge } from '../../src/services/edge-service.js';
import { createTestDatabase } from '../helpers/database.js';
import { seeded } from '../helpers/factories.js';
import { approvedModel } from '../helpers/models.js';
import { generateSyntheticKit } from '../helpers/synthetic-kit.js';
import { seedAndTrain, trainingIn } from '../jobs/pipeline-helpers.js';
import { waitFor } from '../helpers/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const IMAGES = Number(process.env.RELIABILITY_TRAIN_IMAGES ?? 40);
const EPOCHS = Number(process.env.RELIABILITY_TRAIN_EPOCHS ?? 12);
const ARTIFACT_MB = Number(process.env.RELIABILITY_ARTIFACT_MB ?? 24);
const KEEP = new Set(['red_light', 'green_light']);

let files: http.Server;
let filesUrl: string;
let dataDir: string;
let env: Record<string, string>;
let dropDb: (() => Promise<void>) | undefined;
let child: ChildProcess | undefined;
let running: RunningAssay | undefined;

beforeAll(async () => {
  // The dataset host: synthetic kit photos, only the two labels the training asks for.
  const kit = await generateSyntheticKit({ seed: 8, images: IMAGES, size: 64 });
  const categories = kit.coco.categories.filter((c) => KEEP.has(c.name));
  const ids = new Set(categories.map((c) => c.id));
  const doc = { ...kit.coco, categories, annotations: kit.coco.annotations.filter((a) => ids.has(a.category_id)) };
  files = http.createServer((req, res) => {
    const name = (req.url ?? '').replace(/^\/kit\//, '');
    if (name === 'coco.json') return void res.setHeader('content-type', 'application/json').end(JSON.stringify(doc));
    const png = kit.png.get(name);
    if (!png) return void res.writeHead(404).end();
    res.setHeader('content-type', 'image/png').end(png);
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/kit`;

  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-kill-'));
  let url: string | undefined;
  if (process.env.DATABASE_URL) {
    const db = await createTestDatabase();
    url = db.url;
    await db.dataSource.destroy();
    await db.pool.end();
    dropDb = () => db.close();
  }
  env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    ASSAY_DATA_DIR: dataDir,
    ASSAY_ALLOW_HTTP_FETCH: 'true',
    ASSAY_ALLOW_PRIVATE_FETCH: 'true',
    SF_RECONCILE_INTERVAL: 'off',
    ...(url ? { DATABASE_URL: url } : {}),
  };
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await running?.stop();
  files.closeAllConnections();
  await new Promise((r) => files.close(r));
  await dropDb?.().catch(() => undefined);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Opens the database (the embedded one has a single owner, so nobody else may hold it), runs fn, lets go. */
async function own<T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(loadConfig(env), { logger: createLogger('silent') });
  try {
    return await fn(ctx);
  } finally {
    await stopAgenda(ctx.agenda);
    await ctx.db.close();
  }
}

interface Child {
  url: string;
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

/** A real `assay start` equivalent in its own process (see worker-process.ts). */
async function spawnAssay(roles: string, extra: Record<string, string> = {}): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'worker-process.ts')], {
    env: { ...process.env, ...env, ASSAY_ROLES: roles, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (err += String(d)));
  const line = (pattern: RegExp, timeoutMs = 60_000) =>
    waitFor(`child output ${pattern} (stderr: ${err.slice(0, 400)})`, async () => {
      if (proc.exitCode !== null) throw new Error(`the child exited (${proc.exitCode}): ${err.slice(0, 800)}`);
      return out.split('\n').find((l) => pattern.test(l));
    }, timeoutMs);
  const ready = await line(/^READY /);
  return {
    url: ready.split(' ')[1]!,
    line,
    async kill() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      child = undefined;
    },
  };
}

/** The worker that comes back: a short lock lifetime, so the dead worker's job is taken over at once. */
async function restart(roles: { web: boolean; worker: boolean }): Promise<RunningAssay> {
  running = await startAssay(loadConfig({ ...env, JOB_LOCK_LIFETIME_MS: '1500' }), { ...roles, logger: createLogger('silent'), processEvery: 200 });
  return running;
}

async function activePerKitOption(ctx: AppContext): Promise<number[]> {
  const rows: { n: number }[] = await ctx.db.dataSource.query(`SELECT count(*)::int AS n FROM model_test_types WHERE is_active GROUP BY test_type_id, ai_option_uid`);
  return rows.map((r) => r.n);
}

describe('a worker killed with SIGKILL', () => {
  it('mid-training: the next worker resumes the training, visibly, and it ends trained with one model', async () => {
    const hyperparameters = { epochs: EPOCHS, batchSize: 16, learningRate: 0.01, imageSize: 16, seed: 3 };
    const ids = await own(async (ctx) => {
      const made = await seedAndTrain(ctx.db.dataSource, 'kill-mid-training', { source: 'url', uri: `${filesUrl}/coco.json` }, 'tfjs', hyperparameters);
      await ctx.queue.now(JOBS.datasetValidate, made);
      return made;
    });

    // The dying worker holds a normal (long) lock; it is killed after its second epoch is recorded.
    const worker = await spawnAssay('worker', { JOB_LOCK_LIFETIME_MS: '60000' });
    await worker.line(new RegExp(`^EPOCH ${ids.trainingUid} 2$`), 60_000);
    await worker.kill();

    // What the dead worker left: mid-training, with its first epochs recorded.
    const left = await own((ctx) => ctx.db.dataSource.manager.findOneByOrFail(ModelTraining, { uid: ids.trainingUid }));
    expect(left.status).toBe('training');
    expect(left.currentEpoch).toBeGreaterThanOrEqual(2);
    expect(left.currentEpoch).toBeLessThan(EPOCHS);

    running = await restart({ web: false, worker: true });
    const ds = running.ctx.db.dataSource;

    const t = await trainingIn(ds, ids.trainingUid, ['trained', 'failed', 'cancelled'], 80_000);
    expect({ status: t.status, error: t.trainingError }).toEqual({ status: 'trained', error: null });
    expect(t.trainingLogs).toMatch(/worker stopped during training; re-queued \(resume 1 of 2\)/);
    // The resumed run starts over: its progress and metrics describe that run, not a mix of both.
    expect(t.currentEpoch).toBe(EPOCHS);
    expect(t.metrics.map((m) => m.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
    const resumed = await ds.manager.findBy(AuditLogEntry, { entityId: ids.trainingUid, action: 'training.resumed' });
    expect(resumed.map((a) => a.details)).toEqual([expect.objectContaining({ phase: 'training', resume: 1 })]);
    const models = await ds.manager.findBy(Model, { trainingUid: ids.trainingUid });
    expect(models).toHaveLength(1);
    expect(t.modelId).toBe(models[0]!.id);
    expect(await ds.manager.countBy(ModelTraining, { status: 'training' })).toBe(0);
    await running.stop();
    running = undefined;
  }, 150_000);

  it('during a deployment: the edge goes on from its next heartbeat, the download link still works, one active model per kit option', async () => {
    const big = randomBytes(ARTIFACT_MB * 1024 * 1024);
    const setup = await own(async (ctx) => {
      const ds = ctx.db.dataSource;
      const cat = await seeded(ds.manager);
      const { token } = await addEdge(ds.manager, 'edge-kill', systemActor);
      const spec = { optionUids: [cat.option('red_light').uid, cat.option('green_light').uid], kitIds: [cat.kit('4567').id] };
      const a = await approvedModel(ds, { ...spec, artifact: await ctx.artifacts.put(randomBytes(1024), { kind: 'model' }) });
      const b = await approvedModel(ds, { ...spec, artifact: await ctx.artifacts.put(big, { kind: 'model' }) });
      const first = await deployModel(ds, { modelId: a.id, actor: 'UBOSS', approvers: new Set(['UBOSS']) });
      return { token, a, b, first: first.deployments[0]!.id };
    });
    const edge = (base: string) => ({
      call: (p: string, init: RequestInit = {}) => fetch(`${base}${p}`, { ...init, headers: { authorization: `Bearer ${setup.token}`, 'content-type': 'application/json' } }),
      beat(deploymentId: string, status: string, progress?: number) {
        return this.call('/api/v1/edge/heartbeat', { method: 'POST', body: JSON.stringify({ models: [], deployments: [{ deploymentId, status, ...(progress != null ? { progress } : {}) }] }) });
      },
    });

    // First process: model A goes all the way; it is killed while idle, between deployments.
    let proc = await spawnAssay('web,worker');
    for (const s of ['downloading', 'installing', 'completed']) expect((await edge(proc.url).beat(setup.first, s)).status).toBe(200);
    await proc.kill();
    const second = await own(async (ctx) => (await deployModel(ctx.db.dataSource, { modelId: setup.b.id, actor: 'UBOSS', approvers: new Set(['UBOSS']) })).deployments[0]!.id);

    // Second process: the edge starts on B and is mid-download when the process is killed.
    proc = await spawnAssay('web,worker');
    expect((await edge(proc.url).beat(second, 'downloading', 0.1)).status).toBe(200);
    const link = (await (await edge(proc.url).call(`/api/v1/edge/models/${setup.b.id}/download-url`)).json()) as { url: string; sha256: string };
    const linkPath = new URL(link.url).pathname + new URL(link.url).search;
    const partial = await edge(proc.url).call(linkPath);
    expect(partial.status).toBe(200);
    const reader = partial.body!.getReader();
    let got = (await reader.read()).value?.length ?? 0;
    await proc.kill();
    const cut = await (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return false;
          got += value.length;
        }
      } catch {
        return true;
      }
    })();
    expect(cut || got < big.length).toBe(true);

    // What the dead process left: B's deployment still downloading.
    expect((await own((ctx) => ctx.db.dataSource.manager.findOneByOrFail(Deployment, { id: second }))).status).toBe('downloading');
    running = await restart({ web: true, worker: true });
    const ds = running.ctx.db.dataSource;
    const again = edge(running.url!);
    // The edge never saw its last answer: it repeats the same state, then downloads again with the same link.
    expect((await again.beat(second, 'downloading', 0.1)).status).toBe(200);
    const full = await again.call(linkPath);
    expect(full.status).toBe(200);
    const bytes = Buffer.from(await full.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(link.sha256);
    for (const s of ['installing', 'completed']) expect((await again.beat(second, s)).status).toBe(200);

    const rows = await ds.manager.find(Deployment, { order: { createdAt: 'ASC' } });
    expect(rows.map((d) => [d.modelId, d.status])).toEqual([[setup.a.id, 'completed'], [setup.b.id, 'completed']]);
    const steps = await ds.manager.find(AuditLogEntry, { where: { entityId: second }, order: { id: 'ASC' } });
    expect(steps.map((s) => s.action)).toEqual(['deployment.downloading', 'deployment.installing', 'deployment.completed']);
    const counts = await activePerKitOption(running.ctx);
    expect(counts.length).toBe(2);
    expect(counts.every((n) => n === 1)).toBe(true);
    const active: { model_id: string }[] = await ds.query(`SELECT DISTINCT model_id FROM model_test_types WHERE is_active`);
    expect(active).toEqual([{ model_id: setup.b.id }]);
  }, 150_000);
});
