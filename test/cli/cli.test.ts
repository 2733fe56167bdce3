// The real `assay` CLI as a user runs it (through tsx, so no build is needed).
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../helpers/database.js';

function assay(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { PATH: process.env.PATH!, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('assay CLI', () => {
  it('migrate and seed on a fresh database; seeding twice changes nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-cli-'));
    let env: Record<string, string> = { ASSAY_DATA_DIR: dir };
    let cleanup = async () => {};
    if (process.env.DATABASE_URL) {
      const db = await createTestDatabase();
      await db.dataSource.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      env = { DATABASE_URL: db.url! };
      cleanup = () => db.close();
    }
    try {
      const m = assay(['migrate'], env);
      expect(m.err).toBe('');
      expect(m.out).toMatch(/Applied 1 migration\(s\): InitialSchema/);
      expect(assay(['migrate'], env).out).toMatch(/up to date/);
      expect(assay(['seed'], env).out).toBe('Seeded: 9 AI option(s), 6 kit(s), 21 kit-option link(s) added.\n');
      expect(assay(['seed'], env).out).toBe('Seeded: 0 AI option(s), 0 kit(s), 0 kit-option link(s) added.\n');
    } finally {
      await cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad configuration or usage gets one clear line and a non-zero exit', () => {
    const bad = assay(['migrate'], { SLACK_BOT_TOKEN: 'xoxb-1' });
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('assay: configuration error: SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set (Slack)\n');
    const unknown = assay(['frobnicate'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command "frobnicate"/);
  });
});
