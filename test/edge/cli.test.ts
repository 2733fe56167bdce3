// `assay edge` and `assay history` as an operator runs them (through tsx, no build needed).
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashEdgeToken } from '../../src/services/edge-service.js';
import { migrate, openDatabase } from '../../src/db/database.js';
import { seedCatalog } from '../../src/services/seed-service.js';
import { systemActor } from '../../src/services/audit.js';
import { createTestDatabase } from '../helpers/database.js';

function assay(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { PATH: process.env.PATH!, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('assay edge / assay history', () => {
  it('adds an edge (token printed once, only its hash stored), lists, revokes; prints a kit history', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-edge-cli-'));
    let env: Record<string, string> = { ASSAY_DATA_DIR: dir };
    let cleanup = async () => {};
    if (process.env.DATABASE_URL) {
      const db = await createTestDatabase();
      env = { ASSAY_DATA_DIR: dir, DATABASE_URL: db.url! };
      cleanup = () => db.close();
    }
    try {
      // Catalog first (in-process), so every spawn below is one command under test.
      const setup = await openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { embeddedDir: path.join(dir, 'db') });
      await migrate(setup);
      await seedCatalog(setup.dataSource.manager, systemActor, { demoKits: true });
      await setup.close();

      const added = assay(['edge', 'add', 'lab-edge-1'], env);
      expect(added.err).toBe('');
      expect(added.code).toBe(0);
      const token = /\n {2}(assay_edge_\S+)\n/.exec(added.out)![1]!;
      expect(added.out).toMatch(/shown only now/);

      const dup = assay(['edge', 'add', 'lab-edge-1'], env);
      expect(dup.code).toBe(1);
      expect(dup.err).toBe('assay: An edge server named lab-edge-1 already exists\n');

      expect(assay(['edge', 'revoke', 'lab-edge-1'], env).out).toMatch(/revoked at/);
      const listed = assay(['edge', 'list'], env);
      expect(listed.out).toMatch(/^NAME\s+STATE\s+LAST HEARTBEAT\s+MODELS\nlab-edge-1\s+revoked\s+never\s+0\n$/);
      expect(listed.out).not.toContain(token);

      const history = assay(['history', '4567', '--at', '2026-01-01T00:00:00Z'], env);
      expect(history.err).toBe('');
      expect(history.out).toMatch(/^Kit 4567 "PR urine" at 2026-01-01T00:00:00Z/);
      expect(history.out).toMatch(/red_light\s+\(none\)/);

      // Only the hash is in the database.
      const db = await openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { embeddedDir: path.join(dir, 'db') });
      try {
        const rows: { token_hash: string }[] = await db.dataSource.query(`SELECT token_hash FROM edge_servers`);
        expect(rows).toEqual([{ token_hash: hashEdgeToken(token) }]);
        const audit = await db.dataSource.query(`SELECT details::text AS d FROM audit_log`);
        expect(JSON.stringify(audit)).not.toContain(token);
      } finally {
        await db.close();
      }
    } finally {
      await cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
