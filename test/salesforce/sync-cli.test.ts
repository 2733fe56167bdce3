// `assay sync` as an operator runs it, against the local fake org.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/db/database.js';
import { createTestDatabase } from '../helpers/database.js';
import { FakeSalesforce } from '../../src/testing/fake-salesforce.js';

// Async spawn: the fake org answers from this process while the CLI runs.
function assay(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { PATH: process.env.PATH!, LOG_LEVEL: 'silent', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

let fake: FakeSalesforce;
beforeAll(async () => {
  fake = await new FakeSalesforce().start();
  const red = fake.addOption('red_light');
  fake.addKit('4567', 'PR urine', [red]);
  fake.addKit('589', 'PR urine kit', []);
});
afterAll(async () => fake.stop());

describe('assay sync', () => {
  it('reconciles the org into the database and prints a summary', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-sync-'));
    let env: Record<string, string> = { ASSAY_DATA_DIR: dir };
    let cleanup = async () => {};
    let url: string | undefined;
    if (process.env.DATABASE_URL) {
      const db = await createTestDatabase();
      url = db.url!;
      env = { ASSAY_DATA_DIR: dir, DATABASE_URL: url };
      await db.dataSource.destroy();
      cleanup = () => db.close();
    }
    try {
      const r = await assay(['sync'], { ...env, ...fake.env() });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Reconciled 2 kit\(s\) in 1 page\(s\): 2 new, 0 updated, 0 unchanged \(older\), 0 archived, links \+1\/-0, 0 record\(s\) skipped; 1 REST call\(s\), API usage 1\/15000\.\n$/);
      const db = await openDatabase(url ? { url } : { embeddedDir: path.join(dir, 'db') });
      try {
        const kits = await db.dataSource.query(`SELECT kit_id, kit_name, status FROM test_types ORDER BY kit_id`);
        expect(kits).toEqual([
          { kit_id: '4567', kit_name: 'PR urine', status: 'active' },
          { kit_id: '589', kit_name: 'PR urine kit', status: 'active' },
        ]);
      } finally {
        await db.close();
      }
    } finally {
      await cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what is missing when the API is not configured', async () => {
    const r = await assay(['sync'], { ASSAY_DATA_DIR: os.tmpdir() });
    expect(r.code).toBe(2);
    expect(r.err).toBe('assay: Salesforce API not configured: set SF_CLIENT_ID, SF_USERNAME and SF_PRIVATE_KEY_PATH, or SF_ALIAS\n');
  });
});
