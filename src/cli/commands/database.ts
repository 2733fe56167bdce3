// `assay migrate` and `assay seed [--demo-kits]`.
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/index.js';
import { migrate, openDatabase, type Database } from '../../db/database.js';
import { seedCatalog } from '../../services/seed-service.js';
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
    const ran = await withDatabase(migrate);
    process.stdout.write(ran.length ? `Applied ${ran.length} migration(s): ${ran.join(', ')}\n` : 'Database schema is up to date.\n');
    return 0;
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
    const demoKits = !!values['demo-kits'];
    const result = await withDatabase(async (db) => {
      await migrate(db);
      return seedCatalog(db.dataSource.manager, { type: 'cli', id: process.env.USER ?? null }, { demoKits });
    });
    process.stdout.write(`Seeded: ${result.optionsAdded} AI option(s), ${result.kitsAdded} kit(s), ${result.linksAdded} kit-option link(s) added.\n`);
    if (!demoKits) process.stdout.write('Kits arrive from Salesforce (Outbound Messages, change events or `assay sync`); `assay seed --demo-kits` adds the demo kits.\n');
    return 0;
  },
};
