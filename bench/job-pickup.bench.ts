// Benchmark: job pickup latency (enqueue → handler start), LISTEN/NOTIFY vs Agenda's polling-only
// configuration (5 s poll), one job at a time and 20 at once; plus Assay's own overhead (queue +
// registry + heartbeat wrapper) over a bare Agenda handler. Embedded database always; PostgreSQL
// too when DATABASE_URL is set (a fresh database is created and dropped).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { migrate, openDatabase, type Database } from '../src/db/database.js';
import { createAgenda, queueFor, stopAgenda } from '../src/jobs/job-system.js';
import { agendaRegistry } from '../src/jobs/handlers/registry.js';
import { withHeartbeat } from '../src/jobs/job-runtime.js';

const SINGLE = 15;
const SINGLE_POLLING = 6;
const BURST = 20;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
};

interface Mode {
  notifications: boolean;
  assay: boolean;
}

async function measure(db: Database, mode: Mode, singles: number): Promise<{ single: number[]; burst: number[] }> {
  const agenda = await createAgenda(db, { processEvery: mode.notifications ? '5 seconds' : '5 seconds', disableNotifications: !mode.notifications, name: `bench-${randomBytes(3).toString('hex')}` });
  const name = `bench.pickup.${randomBytes(3).toString('hex')}`;
  const waiting = new Map<number, (ms: number) => void>();
  const onStart = (data: { t: number; i: number }) => waiting.get(data.i)?.(performance.now() - data.t);
  if (mode.assay) {
    const registry = agendaRegistry(agenda);
    registry.define(name as never, (job) => withHeartbeat(job, 60_000, async () => onStart(job.attrs.data as never)), { concurrency: 50, lockLifetime: 120_000 });
  } else {
    agenda.define(name, async (job) => onStart(job.attrs.data as never), { concurrency: 50 });
  }
  await agenda.start();
  const queue = queueFor(agenda);
  const enqueue = (i: number) => {
    const done = new Promise<number>((resolve) => waiting.set(i, resolve));
    const data = { t: performance.now(), i };
    return { sent: mode.assay ? queue.now(name as never, data) : agenda.now(name, data).then(() => undefined), done };
  };
  let i = 0;
  // Warm-up (connections, prepared plans) is not measured.
  await enqueue(i++).done;
  const single: number[] = [];
  for (let k = 0; k < singles; k++) {
    const { sent, done } = enqueue(i++);
    await sent;
    single.push(await done);
  }
  const batch = Array.from({ length: BURST }, () => enqueue(i++));
  await Promise.all(batch.map((b) => b.sent));
  const burst = await Promise.all(batch.map((b) => b.done));
  await stopAgenda(agenda);
  return { single, burst };
}

async function onDatabase(db: Database) {
  const notify = await measure(db, { notifications: true, assay: false }, SINGLE);
  const assay = await measure(db, { notifications: true, assay: true }, SINGLE);
  const polling = await measure(db, { notifications: false, assay: false }, SINGLE_POLLING);
  const summary = (r: { single: number[]; burst: number[] }) => ({ singleP50Ms: pct(r.single, 50), singleP95Ms: pct(r.single, 95), singleP99Ms: pct(r.single, 99), burst20P50Ms: pct(r.burst, 50), burst20P99Ms: pct(r.burst, 99) });
  const n = summary(notify);
  const a = summary(assay);
  const p = summary(polling);
  return {
    listenNotify: n,
    assayPath: a,
    pollingOnly5s: p,
    pollingOverNotifySingleP50: Math.round((p.singleP50Ms / Math.max(0.1, n.singleP50Ms)) * 10) / 10,
    assayOverheadSingleP50Ms: Math.round((a.singleP50Ms - n.singleP50Ms) * 10) / 10,
  };
}

async function freshPostgres(base: string): Promise<{ db: Database; drop: () => Promise<void> }> {
  const name = `assay_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString(), poolSize: 20 });
  await migrate(db);
  return {
    db,
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const embedded = await openDatabase({ embeddedDir: null });
  await migrate(embedded);
  const result: Record<string, unknown> = { singleJobs: SINGLE, pollingSingleJobs: SINGLE_POLLING, burst: BURST };
  try {
    result.embedded = await onDatabase(embedded);
  } finally {
    await embedded.close();
  }
  if (process.env.DATABASE_URL) {
    const { db, drop } = await freshPostgres(process.env.DATABASE_URL);
    try {
      result.postgres = await onDatabase(db);
    } finally {
      await drop();
    }
  } else {
    result.postgres = 'skipped (DATABASE_URL not set)';
  }
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
