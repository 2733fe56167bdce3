// A `pg`-compatible Pool/Client over one in-process PGlite instance, so TypeORM and
// Agenda's PostgresBackend run unchanged on the embedded database.
//
// PGlite is a single Postgres session. Sharing it safely needs three rules:
//  - each statement runs atomically (one at a time through `session`);
//  - a client that opens a transaction owns the session until the transaction ends,
//    so other clients' statements cannot land inside it (or be rolled back with it);
//  - NOTIFY payloads go to the clients that ran LISTEN on that channel, not to everyone.
import { EventEmitter } from 'node:events';
import type { PGlite, Results } from '@electric-sql/pglite';
import pg from 'pg';
import pgUtils from 'pg/lib/utils.js';

type QueryCallback = (err: Error | null, result?: PgResult) => void;
type ConnectCallback = (err: Error | null, client?: EmbeddedClient, release?: (err?: unknown) => void) => void;

export interface PgResult {
  command: string;
  rowCount: number;
  rows: any[];
  fields: { name: string; dataTypeID: number }[];
  oid: number;
}

interface QueryConfig {
  text: string;
  values?: unknown[];
  rowMode?: 'array';
}

/** Results parsed exactly as node-postgres would (int8 and numeric as strings, pg-types dates). */
const pgParsers: Record<number, (value: string) => any> = {};
// PGlite merges parser maps by key, so every built-in OID gets node-postgres' parser explicitly.
for (let oid = 16; oid < 5000; oid++) pgParsers[oid] = pg.types.getTypeParser(oid, 'text');
/** Values are prepared to text by pg's own `prepareValue`; PGlite must send them as they are. */
const passThroughSerializers: Record<number, (value: unknown) => string> = new Proxy(
  {},
  { get: () => (value: unknown) => value as string },
);

/** A FIFO lock: the session is owned by one statement or one open transaction at a time. */
class SessionLock {
  private holder: object | null = null;
  private waiters: { owner: object; resolve: () => void }[] = [];

  heldBy(owner: object): boolean {
    return this.holder === owner;
  }

  async acquire(owner: object): Promise<void> {
    if (this.holder === owner) return;
    if (this.holder === null) {
      this.holder = owner;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push({ owner, resolve }));
  }

  release(owner: object): void {
    if (this.holder !== owner) return;
    const next = this.waiters.shift();
    this.holder = next ? next.owner : null;
    next?.resolve();
  }
}

const LISTEN_RE = /^\s*(UN)?LISTEN\s+("?)([^";\s]+|\*)\2\s*;?\s*$/i;

function commandOf(sql: string): string {
  const m = /^\s*(?:\/\*[\s\S]*?\*\/\s*)*([a-z]+)/i.exec(sql);
  const word = (m?.[1] ?? '').toUpperCase();
  return word === 'WITH' ? 'SELECT' : word;
}

function prepareParams(values: unknown[] | undefined): unknown[] | undefined {
  if (!values) return undefined;
  return values.map((v) => {
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) return '\\x' + Buffer.from(v).toString('hex');
    const prepared = pgUtils.prepareValue(v);
    if (Buffer.isBuffer(prepared)) return '\\x' + prepared.toString('hex');
    return prepared;
  });
}

function toPgResult(sql: string, r: Results<any>, rowMode?: 'array'): PgResult {
  const command = commandOf(sql);
  const rows = r.rows ?? [];
  const rowCount = command === 'SELECT' || command === 'VALUES' || command === 'SHOW' ? rows.length : (r.affectedRows ?? rows.length);
  void rowMode;
  return {
    command,
    rowCount,
    rows,
    fields: (r.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
    oid: 0,
  };
}

/** Shared state behind every pool made for one PGlite instance. */
export class EmbeddedSession {
  readonly lock = new SessionLock();
  private listeners = new Map<string, Set<EmbeddedClient>>();
  private unsubscribe?: () => void;

  constructor(readonly db: PGlite) {
    this.unsubscribe = db.onNotification((channel, payload) => {
      for (const client of this.listeners.get(channel) ?? []) {
        client.emit('notification', { processId: 0, channel, payload });
      }
    });
  }

  /** Runs one statement with pg's parsing and parameter rules. Caller holds the lock. */
  async run(config: QueryConfig): Promise<PgResult> {
    const params = prepareParams(config.values);
    if (!params || params.length === 0) {
      if (config.rowMode !== 'array') {
        // Simple protocol: multi-statement SQL (migrations, trigger definitions) works as with pg.
        const results = await this.db.exec(config.text, { parsers: pgParsers });
        const last = results[results.length - 1] ?? { rows: [], fields: [], affectedRows: 0 };
        return toPgResult(config.text, last);
      }
    }
    const r = await this.db.query(config.text, params ?? [], {
      parsers: pgParsers,
      serializers: passThroughSerializers,
      rowMode: config.rowMode === 'array' ? 'array' : 'object',
    });
    return toPgResult(config.text, r, config.rowMode);
  }

  async listen(client: EmbeddedClient, channel: string): Promise<void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.db.exec(`LISTEN "${channel.replace(/"/g, '""')}"`);
    }
    set.add(client);
  }

  async unlisten(client: EmbeddedClient, channel: string | '*'): Promise<void> {
    const channels = channel === '*' ? [...this.listeners.keys()] : [channel];
    for (const ch of channels) {
      const set = this.listeners.get(ch);
      if (!set) continue;
      set.delete(client);
      if (set.size === 0) {
        this.listeners.delete(ch);
        await this.db.exec(`UNLISTEN "${ch.replace(/"/g, '""')}"`);
      }
    }
  }

  close(): void {
    this.unsubscribe?.();
  }
}

function normalise(text: string | QueryConfig, values?: unknown[] | QueryCallback): QueryConfig {
  if (typeof text === 'string') return { text, values: Array.isArray(values) ? values : undefined };
  return { text: text.text, values: text.values, rowMode: text.rowMode };
}

function callbackOf(...args: unknown[]): QueryCallback | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as QueryCallback) : undefined;
}

/** One "connection": owns the session only while it runs a statement or holds a transaction open. */
export class EmbeddedClient extends EventEmitter {
  private released = false;

  constructor(
    private readonly session: EmbeddedSession,
    private readonly onRelease: (client: EmbeddedClient) => void,
  ) {
    super();
  }

  query(text: string | QueryConfig, values?: unknown[] | QueryCallback, cb?: QueryCallback): Promise<PgResult> {
    const callback = callbackOf(values, cb);
    const promise = this.execute(normalise(text, values));
    if (callback) {
      promise.then((r) => callback(null, r), (e) => callback(e));
    }
    return promise;
  }

  private async execute(config: QueryConfig): Promise<PgResult> {
    if (this.released) throw new Error('Client was released to the pool and cannot run queries');
    const listen = LISTEN_RE.exec(config.text);
    const { lock, db } = this.session;
    await lock.acquire(this);
    try {
      if (listen) {
        if (listen[1]) await this.session.unlisten(this, listen[3]);
        else await this.session.listen(this, listen[3]);
        return { command: listen[1] ? 'UNLISTEN' : 'LISTEN', rowCount: 0, rows: [], fields: [], oid: 0 };
      }
      return await this.session.run(config);
    } finally {
      // Keep the session while our transaction is open (also while it is aborted).
      if (!db.isInTransaction()) lock.release(this);
    }
  }

  release(_errOrDestroy?: unknown): void {
    if (this.released) return;
    this.released = true;
    const { lock, db } = this.session;
    const finish = async () => {
      if (lock.heldBy(this) && db.isInTransaction()) {
        // A client returned mid-transaction must not leave its work open for others.
        await db.exec('ROLLBACK').catch(() => undefined);
      }
      lock.release(this);
      await this.session.unlisten(this, '*').catch(() => undefined);
    };
    void finish().finally(() => this.onRelease(this));
  }

  // pg.Client API surface used by libraries but meaningless in-process.
  async connect(): Promise<void> {}
  async end(): Promise<void> {
    this.release();
  }
}

export interface EmbeddedPoolOptions {
  session: EmbeddedSession;
}

/** Drop-in for `pg.Pool`: `connect()` (promise or callback), `query()`, `end()`, events. */
export class EmbeddedPool extends EventEmitter {
  private readonly session: EmbeddedSession;
  private clients = new Set<EmbeddedClient>();
  private ended = false;

  constructor(options: EmbeddedPoolOptions) {
    super();
    this.session = options.session;
  }

  get totalCount(): number {
    return this.clients.size;
  }
  get idleCount(): number {
    return 0;
  }
  get waitingCount(): number {
    return 0;
  }

  connect(cb?: ConnectCallback): Promise<EmbeddedClient> {
    const promise = (async () => {
      if (this.ended) throw new Error('Cannot use a pool after calling end on the pool');
      const client = new EmbeddedClient(this.session, (c) => this.clients.delete(c));
      this.clients.add(client);
      return client;
    })();
    if (cb) {
      promise.then((c) => cb(null, c, (err?: unknown) => c.release(err)), (e) => cb(e));
    }
    return promise;
  }

  query(text: string | QueryConfig, values?: unknown[] | QueryCallback, cb?: QueryCallback): Promise<PgResult> {
    const callback = callbackOf(values, cb);
    const promise = (async () => {
      const client = await this.connect();
      try {
        return await client.query(normalise(text, values));
      } finally {
        client.release();
      }
    })();
    if (callback) promise.then((r) => callback(null, r), (e) => callback(e));
    return promise;
  }

  end(cb?: (err?: Error) => void): Promise<void> {
    this.ended = true;
    for (const c of this.clients) c.release();
    const p = Promise.resolve();
    if (cb) p.then(() => cb());
    return p;
  }
}

/** The `driver` object TypeORM loads instead of `pg`: same module shape, embedded pools. */
export function embeddedPgDriver(session: EmbeddedSession): unknown {
  class Pool extends EmbeddedPool {
    constructor(_options?: unknown) {
      super({ session });
    }
  }
  return { Pool, Client: EmbeddedClient, types: pg.types, defaults: {} };
}
