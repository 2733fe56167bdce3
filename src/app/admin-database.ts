// The CLI's admin commands when no server holds the database: open it here, run the operation
// the admin channel would have run, close it. The composition root (app/) is where a database
// handle is opened; the CLI only asks.
import type { Config } from '../config/index.js';
import { migrate, openDatabase } from '../db/database.js';
import { executeAdmin } from '../admin/operations.js';
import { buildAdminServices } from '../services/registry/admin.js';
import type { AdminOperation, AdminResponse } from '../admin/protocol.js';

export async function runAdminLocally(config: Config, operation: AdminOperation, user: string, options: { migrateFirst: boolean }): Promise<AdminResponse> {
  const db = await openDatabase({ url: config.database.url, embeddedDir: config.database.url ? undefined : config.database.embeddedDir });
  try {
    if (options.migrateFirst) await migrate(db);
    return await executeAdmin({ services: buildAdminServices(db), migrate: () => migrate(db) }, operation, user);
  } finally {
    await db.close();
  }
}
