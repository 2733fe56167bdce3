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
  it('migrate and seed on a fresh database (demo kits only with --demo-kits); seeding twice changes nothing', async () => {
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
      expect(m.out).toMatch(/Applied \d+ migration\(s\): InitialSchema1732300000000/);
      expect(assay(['migrate'], env).out).toMatch(/up to date/);
      // A real team's catalog gets the AI options only: its kits come from Salesforce.
      expect(assay(['seed'], env).out).toMatch(/^Seeded: 9 AI option\(s\), 0 kit\(s\), 0 kit-option link\(s\) added\.\nKits arrive from Salesforce/);
      expect(assay(['seed', '--demo-kits'], env).out).toBe('Seeded: 0 AI option(s), 6 kit(s), 21 kit-option link(s) added.\n');
      expect(assay(['seed', '--demo-kits'], env).out).toBe('Seeded: 0 AI option(s), 0 kit(s), 0 kit-option link(s) added.\n');
      const bad = assay(['seed', '--demo'], env);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/^assay: Unknown option '--demo'/);
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

describe('assay eval-coco', () => {
  const ref = process.env.ASSAY_REFERENCE_DIR ?? path.resolve(process.cwd(), 'test/fixtures/coco-eval');
  it('prints the 12 stats, and with --json the official numbers', () => {
    const dir = path.join(ref, 'case_padilla_coco100');
    const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
    const text = assay(['eval-coco', '--gt', path.join(dir, 'gt.json'), '--dt', path.join(dir, 'dets.json')], {});
    expect(text.code).toBe(0);
    expect(text.out.split('\n').filter((l) => l.includes('Average'))).toHaveLength(12);
    const json = JSON.parse(assay(['eval-coco', '--gt', path.join(dir, 'gt.json'), '--dt', path.join(dir, 'dets.json'), '--json'], {}).out);
    const stats = expected.stats ?? expected;
    for (const k of ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl']) expect(json[k]).toBeCloseTo(stats[k], 6);
    expect(Object.keys(json.per_class).length).toBeGreaterThan(0);
  });
  it('bad input files get a clear message and exit 2', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'coco-'));
    fs.writeFileSync(path.join(tmp, 'bad.json'), '{not json');
    const r = assay(['eval-coco', '--gt', path.join(tmp, 'bad.json'), '--dt', path.join(tmp, 'bad.json')], {});
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^assay: .*bad\.json/);
    expect(assay(['eval-coco', '--gt', 'x.json'], {}).err).toMatch(/--gt and --dt are required/);
  });
});
