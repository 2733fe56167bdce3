// The embedded adapter must behave like a real pg pool under concurrency: transactions
// isolated and atomic, concurrent queries all answered, notifications to listeners only.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedDatabase, DataFolderInUseError, type EmbeddedDatabase } from '../../src/db/embedded/embedded-database.js';
import { EmbeddedPool } from '../../src/db/embedded/pglite-pool.js';
import { waitFor } from '../helpers/wait.js';

let db: EmbeddedDatabase;
let pool: EmbeddedPool;

beforeAll(async () => {
  db = await openEmbeddedDatabase(null);
  pool = new EmbeddedPool({ session: db.session });
  await pool.query('CREATE TABLE t (id serial PRIMARY KEY, who text NOT NULL, n int8, data jsonb, at timestamptz)');
});
afterAll(async () => {
  await pool.end();
  await db.close();
});

describe('embedded pg pool', () => {
  it('runs with 16 MB of shared buffers (PostgreSQL\'s 128 MB default would be resident wasm memory)', async () => {
    const r = await pool.query('SHOW shared_buffers');
    expect(r.rows[0]).toEqual({ shared_buffers: '16MB' });
  });

  it('parses results the way node-postgres does', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const r = await pool.query('INSERT INTO t (who, n, data, at) VALUES ($1, $2, $3, $4) RETURNING *', ['types', 9007199254740993n.toString(), { a: [1, 'x'] }, at]);
    expect(r.command).toBe('INSERT');
    expect(r.rowCount).toBe(1);
    expect(r.rows[0]).toMatchObject({ who: 'types', n: '9007199254740993', data: { a: [1, 'x'] } });
    expect((r.rows[0].at as Date).toISOString()).toBe(at.toISOString());
    const count = await pool.query('SELECT count(*) FROM t');
    expect(count.rows[0].count).toBe('1'); // int8 is a string in pg
  });

  it('keeps concurrent transactions isolated: rolled-back rows never appear, committed ones all do', async () => {
    await pool.query('DELETE FROM t');
    const work = Array.from({ length: 40 }, async (_, i) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query('INSERT INTO t (who) VALUES ($1)', [`tx${i}`]);
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        await c.query('INSERT INTO t (who) VALUES ($1)', [`tx${i}b`]);
        await c.query(i % 2 ? 'ROLLBACK' : 'COMMIT');
      } finally {
        c.release();
      }
    });
    const readers = Array.from({ length: 40 }, () => pool.query('SELECT who FROM t'));
    const seen = await Promise.all(readers);
    await Promise.all(work);
    for (const s of seen) {
      const names = s.rows.map((r: { who: string }) => r.who);
      // A reader never sees half a transaction.
      for (const n of names.filter((x: string) => !x.endsWith('b'))) expect(names).toContain(`${n}b`);
    }
    const final = await pool.query('SELECT who FROM t ORDER BY who');
    expect(final.rows).toHaveLength(40);
    expect(final.rows.every((r: { who: string }) => Number(r.who.replace(/\D/g, '')) % 2 === 0)).toBe(true);
  });

  it('answers 200 concurrent mixed queries without a failure', async () => {
    const ops = Array.from({ length: 200 }, (_, i) =>
      i % 3 === 0 ? pool.query('INSERT INTO t (who) VALUES ($1)', [`m${i}`]) : i % 3 === 1 ? pool.query('SELECT count(*) FROM t') : pool.query('UPDATE t SET n = $1 WHERE who = $2', [i, `m${i - 2}`]),
    );
    const results = await Promise.allSettled(ops);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(0);
  });

  it('a failed statement inside a transaction aborts only that transaction', async () => {
    const c = await pool.connect();
    await c.query('BEGIN');
    await c.query('INSERT INTO t (who) VALUES ($1)', ['aborted']);
    await expect(c.query('INSERT INTO t (who) VALUES (NULL)')).rejects.toThrow(/null value/);
    const other = pool.query('SELECT count(*) FROM t WHERE who = $1', ['aborted']);
    await c.query('ROLLBACK');
    c.release();
    expect((await other).rows[0].count).toBe('0');
  });

  it('a client released mid-transaction is rolled back and frees the session', async () => {
    const c = await pool.connect();
    await c.query('BEGIN');
    await c.query('INSERT INTO t (who) VALUES ($1)', ['leaked']);
    c.release();
    const r = await pool.query('SELECT count(*) FROM t WHERE who = $1', ['leaked']);
    expect(r.rows[0].count).toBe('0');
  });

  it('delivers NOTIFY to the clients that LISTEN on the channel, and only them', async () => {
    const listener = await pool.connect();
    const bystander = await pool.connect();
    const got: string[] = [];
    const stray: string[] = [];
    listener.on('notification', (m: { channel: string; payload: string }) => got.push(`${m.channel}:${m.payload}`));
    bystander.on('notification', (m: { payload: string }) => stray.push(m.payload));
    await listener.query('LISTEN "jobs"');
    await bystander.query('LISTEN other');
    const sender = await pool.connect();
    await sender.query('BEGIN');
    await sender.query(`SELECT pg_notify('jobs', 'one')`);
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([]); // not before commit
    await sender.query('COMMIT');
    sender.release();
    await pool.query(`NOTIFY jobs, 'two'`);
    await waitFor('both notifications', () => got.length >= 2, 5000, 10);
    expect(got).toEqual(['jobs:one', 'jobs:two']);
    expect(stray).toEqual([]);
    listener.release();
    bystander.release();
  });

  it('refuses a second owner of the same data folder with a clear error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-lock-'));
    fs.writeFileSync(path.join(dir, 'assay.pid'), String(process.ppid)); // a live process that is not us
    await expect(openEmbeddedDatabase(dir)).rejects.toThrow(DataFolderInUseError);
    await expect(openEmbeddedDatabase(dir)).rejects.toThrow(/in use by process \d+/);
    fs.writeFileSync(path.join(dir, 'assay.pid'), '99999999'); // stale: its process is gone
    const owned = await openEmbeddedDatabase(dir);
    expect(fs.readFileSync(path.join(dir, 'assay.pid'), 'utf8')).toBe(String(process.pid));
    await owned.close();
    expect(fs.existsSync(path.join(dir, 'assay.pid'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
