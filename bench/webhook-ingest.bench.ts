// Benchmark: durable Salesforce change events per second through POST /webhooks/salesforce
// (signature check, zod, one INSERT per request, apply job enqueued, 200) on one process against
// PostgreSQL, side by side with a plain `pg` single-row INSERT loop into a table of the same shape.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
// @ts-expect-error autocannon ships no type declarations
import autocannon from 'autocannon';
import pg from 'pg';
import { loadConfig } from '../src/config/index.js';
import { startAssay } from '../src/app/bootstrap.js';
import { createLogger } from '../src/app/logger.js';
import { signBody } from '../src/salesforce/signature.js';
import { createTestDatabase } from '../test/helpers/database.js';

const SECRET = 'bench-secret-0123456789abcdef';
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 16;
const RUNS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

let seq = 0;
function eventBody(): string {
  seq++;
  return JSON.stringify({
    ChangeEventHeader: {
      entityName: 'Test_Kit__c', recordIds: [`a0B${String(seq).padStart(15, '0')}`], changeType: 'UPDATE',
      changeOrigin: 'com/salesforce/api/soap/62.0;client=SfdcInternalAPI/', transactionKey: `bench-${process.pid}-${seq}`, sequenceNumber: 1,
      commitTimestamp: Date.now(), commitUser: '005000000000001AAA',
    },
    Name: `Kit ${seq}`,
  });
}

async function webhookRun(url: string, count: () => Promise<number>): Promise<number> {
  const before = await count();
  const started = performance.now();
  const result = await autocannon({
    url: `${url}/webhooks/salesforce`,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [{
      method: 'POST',
      setupRequest: (req: Record<string, unknown>) => {
        const body = eventBody();
        const ts = String(Math.floor(Date.now() / 1000));
        return { ...req, body, headers: { 'content-type': 'application/json', 'x-assay-timestamp': ts, 'x-assay-signature': signBody(SECRET, ts, body) } };
      },
    }],
  } as never);
  const seconds = (performance.now() - started) / 1000;
  const r = result as unknown as { non2xx: number; errors: number };
  if (r.non2xx || r.errors) throw new Error(`webhook run had ${r.non2xx} non-2xx answers and ${r.errors} errors`);
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
      const payload = eventBody();
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
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ASSAY_DATA_DIR: dir, LOG_LEVEL: 'silent', DATABASE_URL: url, SF_WEBHOOK_SECRET: SECRET, SF_RECONCILE_INTERVAL: 'off' });
  // Web role only: the figure is intake (stored + job enqueued), not applying.
  const assay = await startAssay(config, { web: true, worker: false, logger: createLogger('silent') });
  const counter = new pg.Client({ connectionString: url });
  await counter.connect();
  const count = async () => (await counter.query(`SELECT count(*)::int AS n FROM salesforce_events`)).rows[0].n as number;
  const webhook: number[] = [];
  const plain: number[] = [];
  const plainConcurrent: number[] = [];
  try {
    await webhookRun(assay.url!, count); // warm-up
    for (let i = 0; i < RUNS; i++) {
      webhook.push(await webhookRun(assay.url!, count));
      plain.push(await insertLoop(url));
      plainConcurrent.push(await concurrentInsertLoops(url));
    }
  } finally {
    await counter.end();
    await assay.stop();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const w = median(webhook);
  const p = median(plain);
  return {
    durationSeconds: DURATION_S,
    connections: CONNECTIONS,
    runs: RUNS,
    webhookEventsPerSecond: Math.round(w),
    plainInsertLoopRowsPerSecond: Math.round(p),
    ratio: Math.round((w / p) * 100) / 100,
    plainInsertLoops16ConcurrentRowsPerSecond: Math.round(median(plainConcurrent)),
    ratioVsConcurrentLoops: Math.round((w / median(plainConcurrent)) * 100) / 100,
    note: 'webhook: HMAC + zod + INSERT ... ON CONFLICT + Agenda job insert per event, 16 concurrent connections; baseline: one pg client, sequential single-row INSERTs (autocommit)',
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => {
    console.error(e);
    process.exit(1);
  });
}
