// One way to reach the database: real PostgreSQL when DATABASE_URL is set, otherwise the
// embedded PGlite default. TypeORM and Agenda share it either way.
import 'reflect-metadata';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { entities } from './entities/index.js';
import { migrations } from '../../migrations/index.js';
import { openEmbeddedDatabase, type EmbeddedDatabase } from './embedded/embedded-database.js';
import { EmbeddedPool, embeddedPgDriver } from './embedded/pglite-pool.js';

/** What Agenda's PostgresBackend and raw-SQL callers need: pg's Pool interface. */
export interface PgPoolLike {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  connect(): Promise<any>;
  end(): Promise<void>;
}

export interface Database {
  dataSource: DataSource;
  kind: 'postgres' | 'embedded';
  /** A pg-compatible pool on the same database (for Agenda). */
  pool: PgPoolLike;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url?: string;
  /** Data folder of the embedded database; null keeps it in memory (tests). */
  embeddedDir?: string | null;
  poolSize?: number;
  logging?: boolean;
  /** Told when a pool reports an error outside any query (an idle connection dropped by the server). */
  onPoolError?: (err: Error, pool: 'typeorm' | 'jobs') => void;
}

function dataSourceOptions(extra: Record<string, unknown>) {
  return {
    type: 'postgres' as const,
    entities,
    migrations,
    migrationsTransactionMode: 'all' as const,
    migrationsTableName: 'schema_migrations',
    installExtensions: false,
    synchronize: false,
    ...extra,
  };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const dataSource = new DataSource(dataSourceOptions({ url: options.url, poolSize: options.poolSize ?? 10, logging: options.logging ?? false }) as any);
    await dataSource.initialize();
    const pool = new pg.Pool({ connectionString: options.url, max: 5 });
    // An idle client dropped by the server (restart, failover) emits 'error' on the pool;
    // unhandled it kills the process. The next query reconnects or fails with a clear error.
    const report = options.onPoolError ?? (() => undefined);
    pool.on('error', (err) => report(err, 'jobs'));
    // TypeORM's own pool has a listener already (its logger, off here): add the report beside it.
    (dataSource.driver as unknown as { master?: pg.Pool }).master?.on('error', (err) => report(err, 'typeorm'));
    return {
      dataSource,
      kind: 'postgres',
      pool: pool as unknown as PgPoolLike,
      async close() {
        await dataSource.destroy().catch(() => undefined);
        await pool.end().catch(() => undefined);
      },
    };
  }
  const embedded: EmbeddedDatabase = await openEmbeddedDatabase(options.embeddedDir ?? null);
  try {
    const dataSource = new DataSource(dataSourceOptions({ driver: embeddedPgDriver(embedded.session), logging: options.logging ?? false }) as any);
    await dataSource.initialize();
    const pool = new EmbeddedPool({ session: embedded.session });
    return {
      dataSource,
      kind: 'embedded',
      pool: pool as unknown as PgPoolLike,
      async close() {
        await dataSource.destroy().catch(() => undefined);
        await pool.end();
        await embedded.close();
      },
    };
  } catch (e) {
    await embedded.close();
    throw e;
  }
}

export async function migrate(db: Database): Promise<string[]> {
  const ran = await db.dataSource.runMigrations({ transaction: 'all' });
  return ran.map((m) => m.name);
}
