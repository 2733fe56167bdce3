// The embedded default: PGlite (real Postgres compiled to WASM) kept in a data folder.
// Only one process may own a data folder; a second one gets a clear error instead of
// silently corrupting it.
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { EmbeddedSession } from './pglite-pool.js';

export class DataFolderInUseError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `The embedded database in ${dir} is in use by process ${pid}. Only one Assay process can own it: ` +
        `stop that process, or set DATABASE_URL to a PostgreSQL server to run several.`,
    );
    this.name = 'DataFolderInUseError';
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function takeFolderLock(dir: string): () => void {
  const lockFile = path.join(dir, 'assay.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(lockFile, 'utf8') === String(process.pid)) fs.unlinkSync(lockFile);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(lockFile, 'utf8'));
      if (pid && pid !== process.pid && processAlive(pid)) throw new DataFolderInUseError(dir, pid);
      fs.unlinkSync(lockFile); // left behind by a process that died
    }
  }
  throw new Error(`Could not lock the embedded database folder ${dir}`);
}

export interface EmbeddedDatabase {
  session: EmbeddedSession;
  dataDir: string | null;
  close(): Promise<void>;
}

/** Opens PGlite in `dataDir` (created if missing), or in memory when dataDir is null. */
export async function openEmbeddedDatabase(dataDir: string | null): Promise<EmbeddedDatabase> {
  let unlock = () => {};
  if (dataDir) {
    fs.mkdirSync(dataDir, { recursive: true });
    unlock = takeFolderLock(dataDir);
  }
  try {
    // PostgreSQL's default 128 MB of shared buffers becomes resident wasm memory; 16 MB is plenty
    // for the embedded database and keeps an idle `assay start` about 120 MB smaller.
    const postgresqlconf = ['shared_buffers = 16MB'];
    const db = await PGlite.create(dataDir ? { dataDir: path.join(dataDir, 'pgdata'), postgresqlconf } : { postgresqlconf });
    const session = new EmbeddedSession(db);
    return {
      session,
      dataDir,
      async close() {
        session.close();
        await db.close();
        unlock();
      },
    };
  } catch (e) {
    unlock();
    throw e;
  }
}
