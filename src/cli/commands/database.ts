// `assay migrate` and `assay seed`.
import { loadConfig } from '../../config/index.js';
import { migrate, openDatabase, type Database } from '../../db/database.js';
import { seedCatalog } from '../../services/seed-service.js';
import type { CliCommand } from './types.js';

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
  summary: 'load the initial AI options and the demo kits (idempotent)',
  usage: 'assay seed',
  async run() {
    const result = await withDatabase(async (db) => {
      await migrate(db);
      return seedCatalog(db.dataSource.manager, { type: 'cli', id: process.env.USER ?? null });
    });
    process.stdout.write(`Seeded: ${result.optionsAdded} AI option(s), ${result.kitsAdded} kit(s), ${result.linksAdded} kit-option link(s) added.\n`);
    return 0;
  },
};
