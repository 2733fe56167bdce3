// Issue #8, fault suite: the database goes away in the middle of Salesforce webhook traffic.
// PostgreSQL (DATABASE_URL): the real server is restarted (pg_ctlcluster restart -m fast) under a
// bounded loop of concurrent signed change-event batches. Embedded database: there is no server
// to restart — its owner process is killed with SIGKILL under the same traffic and the data
// folder reopened (and a second owner is refused while the first one lives).
// Either way: every batch answered 2xx is stored, every batch not stored was answered 5xx (or
// its connection failed), no batch is half-written, and events are accepted afterwards.
// Sizes: RELIABILITY_WEBHOOK_CONCURRENCY (parallel senders), RELIABILITY_WEBHOOK_BATCH (events per request).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { startAssay, type RunningAssay } from '../../src/app/bootstrap.js';
import { createLogger } from '../../src/app/logger.js';
import { loadConfig } from '../../src/config/index.js';
import { openDatabase } from '../../src/db/database.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { cdcEvent, postChangeEvents, WEBHOOK_SECRET } from '../salesforce/support.js';
import { waitFor } from '../helpers/wait.js';
import { FakeSalesforce } from '../../src/testing/fake-salesforce.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const CONCURRENCY = Number(process.env.RELIABILITY_WEBHOOK_CONCURRENCY ?? 8);
const BATCH = Number(process.env.RELIABILITY_WEBHOOK_BATCH ?? 3);
// Change events are accepted only with Salesforce API credentials (they are re-read): a local org.
let fake: FakeSalesforce;
let SF_ENV: Record<string, string> = {};
beforeAll(async () => {
  fake = await new FakeSalesforce().start();
  SF_ENV = { ...fake.env(), SF_WEBHOOK_SECRET: WEBHOOK_SECRET, SF_RECONCILE_INTERVAL: 'off' };
});
afterAll(async () => fake?.stop());

/** One request: its event keys and what the sender saw (HTTP status, or 'connection failed'). */
interface Sent {
  keys: string[];
  outcome: number | 'connection failed';
}

function batch(): { body: unknown[]; keys: string[] } {
  const body = Array.from({ length: BATCH }, () => cdcEvent('Test_Kit__c', 'UPDATE', ['a0B5e00000AbCdEEAV']));
  return { body, keys: body.map((e) => `cdc:tx:${e.ChangeEventHeader.transactionKey}:1`) };
}

async function send(url: string): Promise<Sent> {
  const { body, keys } = batch();
  try {
    const r = await postChangeEvents(url, body);
    await r.arrayBuffer();
    return { keys, outcome: r.status };
  } catch {
    return { keys, outcome: 'connection failed' };
  }
}

/** CONCURRENCY senders posting back to back until `until` settles; no target = the server is gone (wait). */
async function traffic(target: () => string | undefined, until: Promise<unknown>, onSent: (s: Sent) => void = () => undefined): Promise<Sent[]> {
  let stop = false;
  void until.finally(() => (stop = true));
  const sent: Sent[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (!stop) {
        const url = target();
        if (!url) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const s = await send(url);
        sent.push(s);
        onSent(s);
      }
    }),
  );
  return sent;
}

/** The invariants over every batch sent, given the keys found in salesforce_events. */
function checkOutcomes(sent: Sent[], stored: Set<string>) {
  const verdicts = sent.map((s) => {
    const n = s.keys.filter((k) => stored.has(k)).length;
    const ok = typeof s.outcome === 'number' && s.outcome >= 200 && s.outcome < 300;
    const serverError = typeof s.outcome === 'number' && s.outcome >= 500;
    return { n, ok, refused: serverError || s.outcome === 'connection failed', outcome: s.outcome };
  });
  expect(verdicts.filter((v) => v.n !== 0 && v.n !== BATCH)).toEqual([]); // nothing half-written
  expect(verdicts.filter((v) => v.ok && v.n !== BATCH)).toEqual([]); // acknowledged → stored
  expect(verdicts.filter((v) => v.n === 0 && !v.refused)).toEqual([]); // not stored → 5xx or no answer
  expect(verdicts.filter((v) => !v.ok && !v.refused)).toEqual([]); // never a 4xx for a good request
  return { acknowledged: verdicts.filter((v) => v.ok).length, refused: verdicts.filter((v) => v.refused).length };
}

async function storedKeys(query: (sql: string, params: unknown[]) => Promise<{ event_key: string }[]>, sent: Sent[]): Promise<Set<string>> {
  const rows = await query(`SELECT event_key FROM salesforce_events WHERE event_key = ANY($1::text[])`, [sent.flatMap((s) => s.keys)]);
  return new Set(rows.map((r) => r.event_key));
}

if (process.env.DATABASE_URL) {
  describe('PostgreSQL restarted in the middle of webhook traffic', () => {
    let assay: TestAssay;
    beforeAll(async () => {
      assay = await startTestAssay(SF_ENV);
    });
    afterAll(async () => {
      // Drain first, while the stand-in org still answers: a Salesforce request still running when the
      // file ends would go on retrying against a closed port into the next test file.
      await assay?.drain(20_000);
      await assay?.stop();
    });

    const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
      const c = new pg.Client({ connectionString: assay.config.database.url });
      await c.connect();
      try {
        return await fn(c);
      } finally {
        await c.end();
      }
    };
    const startedAt = () => admin(async (c) => String((await c.query(`SELECT pg_postmaster_start_time()::text AS t`)).rows[0].t));

    it('acknowledged events are stored, the rest were refused, nothing half-written, and it recovers', async () => {
      const before = await startedAt();
      const cluster = fs.readdirSync('/etc/postgresql').sort()[0]!;
      let acknowledgedBefore = 0;
      const restarted = (async () => {
        // Let the traffic run first, so the restart lands in the middle of it.
        await waitFor('traffic before the restart', async () => acknowledgedBefore >= 4 * CONCURRENCY, 20_000);
        await run('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'restart', '-m', 'fast']);
        await waitFor('pg_isready', async () => run('pg_isready', ['-h', '127.0.0.1', '-p', '5432']).then(() => true, () => false), 30_000);
        await new Promise((r) => setTimeout(r, 1_500)); // and a little traffic on the restarted server
      })();
      const sent = await traffic(() => assay.url, restarted, (s) => void (s.outcome === 200 && acknowledgedBefore++));
      await restarted;
      expect(await startedAt()).not.toBe(before); // it really was restarted

      // The pool reconnects: new events are stored and acknowledged again.
      await waitFor('the webhook accepting events again', async () => (await send(assay.url)).outcome === 200, 20_000);
      const after = await Promise.all(Array.from({ length: CONCURRENCY }, () => send(assay.url)));
      expect(after.map((s) => s.outcome)).toEqual(after.map(() => 200));
      expect((await fetch(`${assay.url}/readyz`)).status).toBe(200);

      const stored = await admin(async (c) => storedKeys(async (s, p) => (await c.query(s, p)).rows, [...sent, ...after]));
      const summary = checkOutcomes([...sent, ...after], stored);
      expect(summary.acknowledged).toBeGreaterThan(4 * CONCURRENCY);
      expect(summary.refused).toBeGreaterThan(0); // the restart did hit the traffic

      // The worker (Agenda) came back too: an event stored after the restart gets applied. It waits
      // its turn behind the traffic's apply jobs, each of which re-reads the stand-in org.
      const key = after[0]!.keys[0]!;
      const applied = await waitFor('an event stored after the restart to be applied', async () => {
        const row = await admin(async (c) => (await c.query(`SELECT status, error FROM salesforce_events WHERE event_key = $1`, [key])).rows[0]);
        return row && row.status !== 'received' ? row : null;
      }, 120_000);
      expect(applied).toEqual({ status: 'applied', error: null }); // the org does not list the kit: nothing to archive
    }, 240_000);
  });
} else {
  describe('embedded database: its owner killed in the middle of webhook traffic, the data folder reopened', () => {
    let dataDir: string;
    let child: ChildProcess | undefined;
    let reopened: RunningAssay | undefined;
    beforeAll(() => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-pgrestart-'));
    });
    afterAll(async () => {
      child?.kill('SIGKILL');
      await reopened?.drain(20_000);
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('refuses a second owner; acknowledged events survive a kill -9; nothing half-written; events accepted after reopening', async () => {
      const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1', ASSAY_DATA_DIR: dataDir, ...SF_ENV };
      const childEnv = { ...process.env, ...env, ASSAY_ROLES: 'web,worker' };
      delete (childEnv as Record<string, string | undefined>).DATABASE_URL;
      child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'worker-process.ts')], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => (out += String(d)));
      child.stderr!.on('data', (d) => (err += String(d)));
      const ready = await waitFor(`the child to start (stderr: ${err.slice(0, 400)})`, async () => out.split('\n').find((l) => l.startsWith('READY ')), 60_000);
      let url: string | undefined = ready.split(' ')[1];

      // While it lives, nobody else may open its data folder.
      await expect(openDatabase({ embeddedDir: path.join(dataDir, 'db') })).rejects.toThrow(new RegExp(`in use by process ${child.pid}`));

      let acknowledged = 0;
      const killed = (async () => {
        await waitFor('traffic before the kill', async () => acknowledged >= 4 * CONCURRENCY, 30_000);
        const exited = new Promise((r) => child!.once('exit', r));
        child!.kill('SIGKILL');
        await exited;
        child = undefined;
        url = undefined;
      })();
      const sent = await traffic(() => url, killed, (s) => void (s.outcome === 200 && acknowledged++));
      await killed;

      reopened = await startAssay(loadConfig(env), { web: true, worker: true, logger: createLogger('silent'), processEvery: 200 });
      const ds = reopened.ctx.db.dataSource;
      const stored = await storedKeys((s, p) => ds.query(s, p), sent);
      const summary = checkOutcomes(sent, stored);
      expect(summary.acknowledged).toBeGreaterThanOrEqual(4 * CONCURRENCY);
      expect(summary.refused).toBeGreaterThan(0);
      const again = await Promise.all(Array.from({ length: CONCURRENCY }, () => send(reopened!.url!)));
      expect(again.map((s) => s.outcome)).toEqual(again.map(() => 200));
      checkOutcomes(again, await storedKeys((s, p) => ds.query(s, p), again));
    }, 90_000);
  });
}
