// Benchmark: job pickup latency (enqueue → handler start), LISTEN/NOTIFY vs Agenda's polling-only
// configuration (5 s poll), one job at a time and 20 at once; plus Assay's own overhead (queue +
// registry + heartbeat wrapper) over a bare Agenda handler, measured as paired differences with
// the two sides interleaved (ABBA order). Embedded database always; PostgreSQL too when
// DATABASE_URL is set (a fresh database is created and dropped).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { migrate, openDatabase, type Database } from '../src/db/database.js';
import { createAgenda, queueFor, stopAgenda } from '../src/jobs/job-system.js';
import { agendaRegistry } from '../src/jobs/handlers/registry.js';
import { withHeartbeat } from '../src/jobs/job-runtime.js';
import { abOrder, median, pairedDifferences, show, spread, type Spread, type SummaryRow } from './stats.js';

const SINGLE = 20;
const SINGLE_POLLING = 6;
const BURST = 20;
const BURST_ROUNDS = 2;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
};

interface Mode {
  notifications: boolean;
  assay: boolean;
}

/** One Agenda instance with one job definition; `pickup()` enqueues a job and resolves with the ms until its handler started. */
async function startSide(db: Database, mode: Mode) {
  const agenda = await createAgenda(db, { processEvery: '5 seconds', disableNotifications: !mode.notifications, name: `bench-${randomBytes(3).toString('hex')}` });
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
  let i = 0;
  const enqueue = () => {
    const id = i++;
    const done = new Promise<number>((resolve) => waiting.set(id, resolve));
    const data = { t: performance.now(), i: id };
    return { sent: mode.assay ? queue.now(name as never, data) : agenda.now(name, data).then(() => undefined), done };
  };
  const pickup = async () => {
    const { sent, done } = enqueue();
    await sent;
    return done;
  };
  const burst = async (n: number) => {
    const batch = Array.from({ length: n }, () => enqueue());
    await Promise.all(batch.map((b) => b.sent));
    return Promise.all(batch.map((b) => b.done));
  };
  await pickup(); // warm-up (connections, prepared plans) is not measured
  return { pickup, burst, stop: () => stopAgenda(agenda) };
}

/**
 * Bare Agenda (LISTEN/NOTIFY) and Assay's path (registry + queue + heartbeat wrapper) run side by
 * side on the same database; each single job is measured as a pair in alternating order (ABBA…),
 * so load drift hits both alike, and the overhead is the median of the per-pair differences.
 */
async function onDatabase(db: Database) {
  const bare = await startSide(db, { notifications: true, assay: false });
  const assay = await startSide(db, { notifications: true, assay: true });
  const bareSingle: number[] = [];
  const assaySingle: number[] = [];
  const bareBurst: number[] = [];
  const assayBurst: number[] = [];
  try {
    for (let k = 0; k < SINGLE; k++) {
      for (const side of abOrder(k)) (side === 'a' ? assaySingle : bareSingle).push(await (side === 'a' ? assay : bare).pickup());
    }
    for (let k = 0; k < BURST_ROUNDS; k++) {
      for (const side of abOrder(k)) (side === 'a' ? assayBurst : bareBurst).push(...(await (side === 'a' ? assay : bare).burst(BURST)));
    }
  } finally {
    await bare.stop();
    await assay.stop();
  }
  const polling = await startSide(db, { notifications: false, assay: false });
  const pollingSingle: number[] = [];
  try {
    for (let k = 0; k < SINGLE_POLLING; k++) pollingSingle.push(await polling.pickup());
  } finally {
    await polling.stop();
  }
  const diffs = pairedDifferences(assaySingle, bareSingle);
  const d = (xs: number[]) => ({ ...spread(xs, 3), p95: pct(xs, 95) });
  return {
    listenNotify: { singleMs: d(bareSingle), burst20Ms: d(bareBurst) },
    assayPath: { singleMs: d(assaySingle), burst20Ms: d(assayBurst) },
    pollingOnly5s: { singleMs: d(pollingSingle) },
    assayOverheadSingleMs: spread(diffs, 3),
    pollingOverNotifySingleMedian: Number((median(pollingSingle) / Math.max(0.1, median(bareSingle))).toPrecision(3)),
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
  const result: Record<string, unknown> = { singleJobs: SINGLE, pollingSingleJobs: SINGLE_POLLING, burst: `${BURST_ROUNDS} × ${BURST} jobs per side` };
  const summary: SummaryRow[] = [];
  const row = (db: string, r: Awaited<ReturnType<typeof onDatabase>>) => {
    const overhead = r.assayOverheadSingleMs as Spread;
    summary.push({
      figure: `job pickup, one job (${db})`,
      assay: show(r.assayPath.singleMs, 'ms'),
      baseline: `bare Agenda, LISTEN/NOTIFY: ${show(r.listenNotify.singleMs, 'ms')}`,
      ratio: `${overhead.median >= 0 ? "+" : ""}${overhead.median} ms, median paired difference (${overhead.min} … ${overhead.max})`,
      goal: 'well under the 5 s poll',
      met: r.assayPath.singleMs.median < 5000,
    });
  };
  try {
    result.embedded = await onDatabase(embedded);
    row('embedded', result.embedded as Awaited<ReturnType<typeof onDatabase>>);
  } finally {
    await embedded.close();
  }
  if (process.env.DATABASE_URL) {
    const { db, drop } = await freshPostgres(process.env.DATABASE_URL);
    try {
      result.postgres = await onDatabase(db);
      row('PostgreSQL', result.postgres as Awaited<ReturnType<typeof onDatabase>>);
    } finally {
      await drop();
    }
  } else {
    result.postgres = 'skipped (DATABASE_URL not set)';
  }
  return { summary, ...result };
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
