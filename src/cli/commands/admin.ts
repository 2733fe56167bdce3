// Short admin commands run where the database is: through the running server's admin channel
// when it owns the embedded database (so they work beside `assay start`), else on a connection
// of their own. The output is the same either way.
import os from 'node:os';
import { loadConfig } from '../../config/index.js';
import { sendAdminRequest } from '../../admin/client.js';
import { adminSocketPath, type AdminOperation, type AdminResponse } from '../../admin/protocol.js';
import { runAdminLocally } from '../../app/admin-database.js';

/** Operations that create the schema first when they open the database themselves. */
const MIGRATE_FIRST = new Set<AdminOperation['op']>(['edge.add', 'edge.list', 'edge.revoke', 'seed']);

/** Prints an admin answer as the CLI's own output; its exit code. */
export const print = (r: AdminResponse): number => {
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.code;
};

/** The exit code of the operation run by the server on the admin channel; null when no server listens. */
export async function viaServer(operation: AdminOperation, dataDir: string): Promise<number | null> {
  // A reconciliation now may take long, an import downloads and checks a dataset; everything else answers in seconds.
  const timeoutMs = operation.op === 'sync' && !operation.queue ? 3 * 60 * 60_000 : operation.op === 'model.import' ? 30 * 60_000 : 120_000;
  const r = await sendAdminRequest(adminSocketPath(dataDir), JSON.stringify({ v: 1, user: os.userInfo().username, operation }), timeoutMs);
  return r ? print(r) : null;
}

export async function runAdmin(operation: AdminOperation): Promise<number> {
  const config = loadConfig();
  const user = os.userInfo().username;
  // Only the embedded database is held by one process; with PostgreSQL the CLI connects itself.
  if (!config.database.url) {
    const code = await viaServer(operation, config.dataDir);
    if (code !== null) return code;
  }
  const r = await runAdminLocally(config, operation, user, { migrateFirst: MIGRATE_FIRST.has(operation.op) });
  return print(r);
}
