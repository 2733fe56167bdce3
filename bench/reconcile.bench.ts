// Benchmark: full reconciliation of 10,000 kits × 10 options from a local fake org (real HTTP,
// jsforce, 2,000-row batches) into PostgreSQL. Figures: wall time, REST calls (ideal: total rows
// / 2,000 + 1), and SQL statements per page (set-based, no per-row round trips).
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/app/logger.js';
import { SalesforceClient } from '../src/salesforce/client.js';
import { catalogPorts } from '../src/salesforce/context.js';
import { reconcileCatalog } from '../src/services/kit-sync-service.js';
import { FakeSalesforce } from '../src/testing/fake-salesforce.js';
import { createTestDatabase } from '../test/helpers/database.js';

const KITS = Number(process.env.BENCH_KITS ?? 10_000);
const OPTIONS = 10;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<Record<string, unknown>> {
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
  const fake = await new FakeSalesforce().start();
  fake.generate(KITS, OPTIONS);
  const config = loadConfig({ ...fake.env(), NODE_ENV: 'test' });
  const first: number[] = [];
  const again: number[] = [];
  let calls = 0;
  let pages = 0;
  let statements = 0;
  let secondStatements = 0;
  try {
    for (let i = 0; i < RUNS; i++) {
      const db = await createTestDatabase();
      let sql = 0;
      // Count every statement TypeORM sends (BEGIN/COMMIT included).
      const logger = db.dataSource.logger;
      (db.dataSource as unknown as { logger: unknown }).logger = new Proxy(logger, {
        get: (target, prop) => (prop === 'logQuery' ? () => void sql++ : Reflect.get(target, prop)),
      });
      try {
        const client = new SalesforceClient(config.salesforce);
        const deps = { dataSource: db.dataSource, config, logger: createLogger('silent'), notifier: { notify: async () => {} } as never, queue: { now: async () => {} }, ...catalogPorts(client, config.salesforce.objects) };
        let t = performance.now();
        const r = await reconcileCatalog(deps, 'bench');
        first.push(performance.now() - t);
        if (r.kitsSeen !== KITS || r.kitsCreated !== KITS) throw new Error(`reconcile saw ${r.kitsSeen} kits, created ${r.kitsCreated}`);
        calls = r.restCalls;
        pages = r.pages;
        statements = sql;
        sql = 0;
        t = performance.now();
        await reconcileCatalog(deps, 'bench');
        again.push(performance.now() - t);
        secondStatements = sql;
        const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM test_type_ai_options`);
        if (n !== KITS * OPTIONS) throw new Error(`expected ${KITS * OPTIONS} links, found ${n}`);
      } finally {
        await db.close();
      }
    }
  } finally {
    await fake.stop();
  }
  const rows = KITS * (OPTIONS + 1);
  return {
    kits: KITS,
    optionsPerKit: OPTIONS,
    rows,
    runs: RUNS,
    firstReconcileMs: Math.round(median(first)),
    repeatReconcileMs: Math.round(median(again)),
    kitsPerSecond: Math.round(KITS / (median(first) / 1000)),
    restCalls: calls,
    idealRestCalls: Math.ceil(rows / 2000) + 1,
    pages,
    sqlStatements: statements,
    sqlStatementsPerPage: Math.round((statements / pages) * 10) / 10,
    sqlStatementsRepeatRun: secondStatements,
    baseline: 'one statement per row would be ≥ ' + rows + ' statements',
    statementsVsPerRowRatio: Math.round((statements / rows) * 10000) / 10000,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => {
    console.error(e);
    process.exit(1);
  });
}
