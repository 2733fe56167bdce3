// `assay cancel` as a user runs it.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openContext } from '../../src/app/bootstrap.js';
import { createLogger } from '../../src/app/logger.js';
import { loadConfig } from '../../src/config/index.js';
import { ModelTraining } from '../../src/db/entities/index.js';
import { stopAgenda } from '../../src/jobs/job-system.js';
import { createTestDatabase } from '../helpers/database.js';
import { seedAndTrain } from './pipeline-helpers.js';

function assay(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { PATH: process.env.PATH!, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('assay cancel', () => {
  it('cancels a queued training, refuses a finished one, and explains bad input', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-cancel-'));
    let env: Record<string, string> = { ASSAY_DATA_DIR: dir };
    let cleanup = async () => {};
    if (process.env.DATABASE_URL) {
      const db = await createTestDatabase();
      await db.dataSource.destroy();
      await db.pool.end();
      env = { ...env, DATABASE_URL: db.url! };
      cleanup = () => db.close();
    }
    try {
      const ctx = await openContext(loadConfig({ ...env, LOG_LEVEL: 'silent' }), { logger: createLogger('silent') });
      const ids = await seedAndTrain(ctx.db.dataSource, 'cli-cancel', { source: 'url', uri: 'https://data.example.com/x.json' }, 'tfjs');
      await ctx.agenda.ready;
      await stopAgenda(ctx.agenda);
      await ctx.db.close();

      expect(assay(['cancel'], env)).toMatchObject({ code: 2, err: expect.stringMatching(/^Usage: assay cancel <training-uid>/) });
      expect(assay(['cancel', ids.trainingUid], env)).toMatchObject({ code: 0, out: `Training ${ids.trainingUid} cancelled.\n` });
      expect(assay(['cancel', ids.trainingUid], env)).toMatchObject({ code: 1, err: `Training ${ids.trainingUid} has already cancelled\n` });

      const again = await openContext(loadConfig({ ...env, LOG_LEVEL: 'silent' }), { logger: createLogger('silent') });
      const t = await again.db.dataSource.manager.findOneByOrFail(ModelTraining, { uid: ids.trainingUid });
      await again.agenda.ready;
      await stopAgenda(again.agenda);
      await again.db.close();
      expect(t).toMatchObject({ status: 'cancelled', cancelRequested: true });
    } finally {
      await cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
