// `assay migrate` and `assay seed [--demo-kits]` (through the running server when it owns the
// embedded database), and withDatabase for commands that open it themselves.
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/index.js';
import { openDatabase, type Database } from '../../db/database.js';
import { runAdmin } from './admin.js';
import { CliUsageError, type CliCommand } from './types.js';

export async function withDatabase<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = await openDatabase({ url: config.database.url, embeddedDir: config.database.url ? undefined : config.database.embeddedDir });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export const migrateCommand: CliCommand = {
  name: 'migrate',
  summary: 'create or upgrade the database schema',
  usage: 'assay migrate',
  async run() {
    return runAdmin({ op: 'migrate' });
  },
};

export const seedCommand: CliCommand = {
  name: 'seed',
  summary: 'load the initial AI options (--demo-kits: and the demo kits); idempotent',
  usage: 'assay seed [--demo-kits]',
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { 'demo-kits': { type: 'boolean' } } }));
    } catch (e) {
      throw new CliUsageError(`${(e as Error).message}\nusage: ${this.usage}`);
    }
    return runAdmin({ op: 'seed', demoKits: !!values['demo-kits'] });
  },
};
