// Starts the real Assay (HTTP server + Agenda worker) on a fresh test database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config/index.js';
import { startAssay, type RunningAssay } from '../../src/app/bootstrap.js';
import { createLogger } from '../../src/app/logger.js';
import { createTestDatabase } from './database.js';

export interface TestAssay extends RunningAssay {
  url: string;
  config: Config;
}

/** env: extra configuration (Slack, Salesforce...). The database is a fresh one per call. */
/** options.logLines: collect the real logger's lines (made from the configuration, LOG_LEVEL from env) instead of a silent one. */
export async function startTestAssay(env: Record<string, string> = {}, options: { worker?: boolean; web?: boolean; logLines?: string[]; seedIfEmpty?: boolean; seedDemoKits?: boolean } = {}): Promise<TestAssay> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-test-'));
  let url: string | undefined;
  let dropDb: (() => Promise<void>) | undefined;
  if (process.env.DATABASE_URL) {
    // A fresh database per server, so test files never see each other's rows.
    const db = await createTestDatabase();
    url = db.url;
    await db.dataSource.destroy();
    await db.pool.end();
    dropDb = () => db.close();
  }
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ASSAY_DATA_DIR: dataDir, NODE_ENV: 'test', LOG_LEVEL: 'silent', ...(url ? { DATABASE_URL: url } : {}), ...env });
  const lines = options.logLines;
  const logging = lines ? { logDestination: { write: (line: string) => void lines.push(line) } } : { logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') };
  const running = await startAssay(config, { web: options.web ?? true, worker: options.worker ?? true, seedIfEmpty: options.seedIfEmpty, seedDemoKits: options.seedDemoKits, ...logging, processEvery: 200 });
  return {
    ...running,
    url: running.url!,
    config,
    async stop() {
      await running.stop();
      await dropDb?.().catch(() => undefined);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
