// A worker killed with SIGKILL in the middle of dataset.validate: a new worker takes the job over
// once its lock expires, records the resumption visibly, and the training goes on. Also: a
// training left with no job at all is re-queued by the start-up scan.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openContext, startAssay, type RunningAssay } from '../../src/app/bootstrap.js';
import { createLogger } from '../../src/app/logger.js';
import { loadConfig } from '../../src/config/index.js';
import { AuditLogEntry, Dataset, ModelTraining } from '../../src/db/entities/index.js';
import { stopAgenda } from '../../src/jobs/job-system.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { recoverStuckTrainings } from '../../src/services/training-recovery-service.js';
import { transition } from '../../src/services/transitions.js';
import { systemActor } from '../../src/services/audit.js';
import { createTestDatabase } from '../helpers/database.js';
import { coco, png, seedAndTrain, trainingIn } from './pipeline-helpers.js';
import { waitFor } from '../helpers/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let server: http.Server;
let base: string;
let release = false;
let imageRequested = false;
let remoteJobs = 0;
let dataDir: string;
let dropDb: (() => Promise<void>) | undefined;
let env: Record<string, string>;
let running: RunningAssay | undefined;
let child: ChildProcess | undefined;

beforeAll(async () => {
  const red = await png({ r: 255, g: 0, b: 0 });
  const files = ['1.png', '2.png', '3.png', '4.png', '5.png', '6.png'];
  server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/coco.json') return void res.end(JSON.stringify(coco(files)));
    if (req.url === '/jobs' && req.method === 'POST') return void res.end(JSON.stringify({ jobId: `crash-${++remoteJobs}` }));
    imageRequested = true;
    // Hangs until released: the first worker is stuck here when it is killed.
    const answer = () => (release ? (res.setHeader('content-type', 'image/png'), res.end(red)) : setTimeout(answer, 50));
    answer();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-crash-'));
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
    ASSAY_DATA_DIR: dataDir,
    ASSAY_ALLOW_HTTP_FETCH: 'true',
    ASSAY_ALLOW_PRIVATE_FETCH: 'true',
    DATASET_FETCH_TIMEOUT_MS: '60000',
    JOB_LOCK_LIFETIME_MS: '1500',
    TRAINER_URL: base,
    TRAINER_SECRET: 'trainer-secret-0123456789',
    ...(url ? { DATABASE_URL: url } : {}),
  };
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await running?.stop();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await dropDb?.().catch(() => undefined);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('worker killed mid-job', () => {
  it('the next worker resumes the job and says so in the training log and audit', async () => {
    // Create the training and its job, then let go of the database (the embedded one has one owner).
    const ctx = await openContext(loadConfig(env), { logger: createLogger('silent') });
    const ids = await seedAndTrain(ctx.db.dataSource, 'crash-set', { source: 'url', uri: `${base}/coco.json` }, 'remote');
    await ctx.queue.now(JOBS.datasetValidate, ids);
    await stopAgenda(ctx.agenda);
    await ctx.db.close();

    // The dying worker holds a normal long lock; the next one judges it with a short lifetime, so the takeover is quick.
    child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/worker-child.ts')], { env: { ...process.env, ...env, JOB_LOCK_LIFETIME_MS: '60000' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    child.stdout!.resume();
    await waitFor(`the child worker to start validating (stderr: ${stderr.slice(0, 500)})`, async () => imageRequested, 60_000);
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    child = undefined;
    release = true;

    running = await startAssay(loadConfig(env), { web: false, worker: true, logger: createLogger('silent'), processEvery: 200 });
    const ds = running.ctx.db.dataSource;
    const t = await trainingIn(ds, ids.trainingUid, ['training', 'failed'], 30_000);
    expect(t.status).toBe('training');
    expect(t.trainingLogs).toMatch(/worker stopped during validating; re-queued \(resume 1 of 2\)/);
    expect((await ds.manager.findOneByOrFail(Dataset, { id: ids.datasetId })).status).toBe('valid');
    const audit = await ds.manager.findBy(AuditLogEntry, { entityId: ids.trainingUid, action: 'training.resumed' });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ phase: 'validating', reason: 'worker stopped during validating; re-queued' });
  }, 120_000);

  it('a training left in "training" with no job at all is re-queued at start, then ends visibly', async () => {
    const ds = running!.ctx.db.dataSource;
    const ids = await seedAndTrain(ds, 'orphan-set', { source: 'url', uri: `${base}/coco.json` }, 'tfjs');
    await ds.transaction((tx) => transition(tx, 'training', ids.trainingUid, 'training', systemActor));
    expect(await recoverStuckTrainings(running!.ctx)).toEqual([ids.trainingUid]);
    const t = await trainingIn(ds, ids.trainingUid, ['failed'], 20_000);
    // Its dataset was never validated, so the resumed job refuses to train — with the reason.
    expect(t.trainingLogs).toMatch(/worker stopped during training; its job was lost; re-queued/);
    expect(t.trainingError).toMatch(/no validated dataset snapshot/);
    expect(await ds.manager.countBy(AuditLogEntry, { entityId: ids.trainingUid, action: 'training.requeued' })).toBe(1);
    expect(await ds.manager.countBy(ModelTraining, { uid: ids.trainingUid, status: 'training' })).toBe(0);
  }, 60_000);

  it('a training left queued with no job (its enqueue after the commit was lost) is re-queued once, then validated', async () => {
    release = true;
    running ??= await startAssay(loadConfig(env), { web: false, worker: true, logger: createLogger('silent'), processEvery: 200 });
    const ctx = running.ctx;
    const ds = ctx.db.dataSource;
    // What the wizard commits; its dataset.validate enqueue never happens.
    const ids = await seedAndTrain(ds, 'lost-enqueue-set', { source: 'url', uri: `${base}/coco.json` }, 'remote');
    // Young: the web process may still be enqueuing it, so the scan leaves it alone.
    expect(await recoverStuckTrainings(ctx)).not.toContain(ids.trainingUid);
    expect(await ds.manager.countBy(ModelTraining, { uid: ids.trainingUid, status: 'queued' })).toBe(1);
    await ds.query(`UPDATE model_trainings SET updated_at = now() - interval '5 minutes' WHERE uid = $1`, [ids.trainingUid]);
    // Two scans at once (and the recurring one) claim it once.
    const found = (await Promise.all([recoverStuckTrainings(ctx), recoverStuckTrainings(ctx)])).flat();
    expect(found.filter((u) => u !== ids.trainingUid)).toEqual([]);
    const t = await trainingIn(ds, ids.trainingUid, ['training', 'failed'], 120_000);
    expect([t.status, t.trainingError]).toEqual(['training', null]); // validated by the real job, then handed to the remote trainer
    expect(t.trainingLogs).toMatch(/queued with no dataset.validate job \(its enqueue was lost\); re-queued/);
    expect((await ds.manager.findOneByOrFail(Dataset, { id: ids.datasetId })).status).toBe('valid');
    const audit = await ds.manager.findBy(AuditLogEntry, { entityId: ids.trainingUid, action: 'training.requeued' });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ status: 'queued', job: 'dataset.validate' });
    const { jobs } = await ctx.agenda.queryJobs({ names: [JOBS.datasetValidate], data: { trainingUid: ids.trainingUid } });
    expect(jobs).toHaveLength(1);
    // The scan also runs every minute, not only when a worker starts.
    expect((await ctx.agenda.queryJobs({ names: [JOBS.trainingRecover] })).jobs).toEqual([expect.objectContaining({ repeatInterval: '1 minute' })]);
  }, 180_000);
});
