// Benchmark: durable Salesforce change events per second through POST /webhooks/salesforce
// (signature check, zod, one INSERT per request, apply job enqueued, 200) on one process against
// PostgreSQL, side by side with plain `pg` single-row INSERT loops into a table of the same shape
// at the same concurrency (16 HTTP connections vs 16 pg clients). The HTTP load comes from its own
// process (bench/load-generator.ts); the two sides alternate (ABBA) and the ratio is paired.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { loadConfig } from '../src/config/index.js';
import { startAssay } from '../src/app/bootstrap.js';
import { createLogger } from '../src/app/logger.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { runLoad, salesforceEventBody } from './load-generator.js';
import { abOrder, pairedRatios, show, spread, type SummaryRow } from './stats.js';

const SECRET = 'bench-secret-0123456789abcdef';
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 16;
const RUNS = 3;
let seq = 0;

async function webhookRun(url: string, count: () => Promise<number>): Promise<number> {
  const before = await count();
  const started = performance.now();
  const r = await runLoad({ url, kind: 'salesforce-event', secret: SECRET, connections: CONNECTIONS, durationSeconds: DURATION_S });
  const seconds = (performance.now() - started) / 1000;
  if (r.non2xx || r.errors) throw new Error(`webhook run had ${r.non2xx} non-2xx answers and ${r.errors} errors`);
  // Rows actually stored, over the wall time including the generator's start-up (it only makes the figure smaller).
  return ((await count()) - before) / seconds;
}

async function insertLoop(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS bench_events (LIKE salesforce_events INCLUDING ALL)`);
    const until = performance.now() + DURATION_S * 1000;
    const started = performance.now();
    let n = 0;
    while (performance.now() < until) {
      seq++;
      const payload = salesforceEventBody('plain');
      await client.query(
        `INSERT INTO bench_events (event_key, source, entity_name, change_type, record_ids, commit_timestamp, payload) VALUES ($1, 'cdc', 'Test_Kit__c', 'UPDATE', $2, now(), $3)`,
        [`plain-${process.pid}-${seq}`, [`a0B${String(seq).padStart(15, '0')}`], payload],
      );
      n++;
    }
    return n / ((performance.now() - started) / 1000);
  } finally {
    await client.end();
  }
}

/** The same loop on CONNECTIONS clients at once: what the database gives concurrent writers. */
async function concurrentInsertLoops(url: string): Promise<number> {
  const rates = await Promise.all(Array.from({ length: CONNECTIONS }, () => insertLoop(url)));
  return rates.reduce((a, b) => a + b, 0);
}

export async function run(): Promise<Record<string, unknown>> {
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
  const db = await createTestDatabase();
  const url = db.url!;
  await db.dataSource.destroy();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-bench-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ASSAY_DATA_DIR: dir, LOG_LEVEL: 'silent', DATABASE_URL: url, SF_WEBHOOK_SECRET: SECRET, SF_RECONCILE_INTERVAL: 'off', SF_ALIAS: 'bench-org' });
  // Web role only: the figure is intake (stored + job enqueued), not applying. Change events are
  // accepted only with API credentials configured (SF_ALIAS: no worker here ever opens it).
  const assay = await startAssay(config, { web: true, worker: false, logger: createLogger('silent') });
  const counter = new pg.Client({ connectionString: url });
  await counter.connect();
  const count = async () => (await counter.query(`SELECT count(*)::int AS n FROM salesforce_events`)).rows[0].n as number;
  const webhook: number[] = [];
  const plainConcurrent: number[] = [];
  const plainOne: number[] = [];
  try {
    await webhookRun(assay.url!, count); // warm-up
    for (let i = 0; i < RUNS; i++) {
      for (const side of abOrder(i)) {
        if (side === 'a') webhook.push(await webhookRun(assay.url!, count));
        else plainConcurrent.push(await concurrentInsertLoops(url));
      }
      plainOne.push(await insertLoop(url));
    }
  } finally {
    await counter.end();
    await assay.stop();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ratio = spread(pairedRatios(webhook, plainConcurrent), 3);
  const w = spread(webhook, 3);
  const summary: SummaryRow[] = [{
    figure: `Salesforce webhook ingest, events/s (${CONNECTIONS} concurrent)`,
    assay: show(w, '/s'),
    baseline: `${CONNECTIONS} concurrent plain pg INSERT loops: ${show(spread(plainConcurrent, 3), 'rows/s')}`,
    ratio: `${ratio.median} (${ratio.min}–${ratio.max}, paired)`,
    goal: 'none set (each event is 2 inserts: the event and its job)',
    met: null,
  }];
  return {
    summary,
    durationSeconds: DURATION_S,
    connections: CONNECTIONS,
    webhookEventsPerSecond: w,
    plainInsertLoopsConcurrentRowsPerSecond: spread(plainConcurrent, 3),
    ratioPaired: ratio,
    footnoteOneClientInsertLoopRowsPerSecond: spread(plainOne, 3),
    note: `webhook: HMAC + zod + INSERT ... ON CONFLICT + Agenda job insert per event, ${CONNECTIONS} connections from a separate load-generator process; baseline: ${CONNECTIONS} pg clients each running sequential single-row INSERTs (autocommit)`,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => {
    console.error(e);
    process.exit(1);
  });
}
