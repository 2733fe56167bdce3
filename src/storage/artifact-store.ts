// Content-addressed artifact storage (models, dataset snapshots, images). Every put streams the
// input through sha256 into a temp file, then moves it to `<kind>s/<sha256><ext>`: the same bytes
// always get the same path, so a model or dataset can be traced to exact content.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/index.js';

export type ArtifactKind = 'model' | 'dataset' | 'image';

export interface PutOptions {
  kind: ArtifactKind;
  /** With or without the dot: ".onnx", "json". Default per kind (.onnx, .json, .bin). */
  extension?: string;
  contentType?: string;
  /** Refuse inputs larger than this (bytes): the put fails with ArtifactTooLargeError. */
  maxBytes?: number;
}

export interface StoredArtifact {
  path: string;
  sha256: string;
  size: number;
}

export interface ArtifactStore {
  readonly kind: 'local' | 's3';
  put(input: Readable | Buffer, opts: PutOptions): Promise<StoredArtifact>;
  /** Throws ArtifactNotFoundError when the path is not stored. */
  get(artifactPath: string): Promise<Readable>;
  stat(artifactPath: string): Promise<{ size: number } | null>;
  /** Time-limited GET URL for an outside reader (S3 only; local storage has none). */
  presignedUrl?(artifactPath: string, ttlSeconds: number): Promise<string>;
  delete(artifactPath: string): Promise<void>;
}

export class ArtifactNotFoundError extends Error {
  constructor(readonly artifactPath: string) {
    super(`artifact not found: ${artifactPath}`);
    this.name = 'ArtifactNotFoundError';
  }
}

export class ArtifactTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`artifact is larger than ${maxBytes} bytes`);
    this.name = 'ArtifactTooLargeError';
  }
}

/** Models, datasets and images are owner-only: other users of the machine have no business reading them. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

const defaultExtension: Record<ArtifactKind, string> = { model: '.onnx', dataset: '.json', image: '.bin' };

/** `models/<sha>.onnx`. Extensions are restricted so a path never escapes its folder. */
export function artifactPath(kind: ArtifactKind, sha256: string, extension?: string): string {
  let ext = extension ?? defaultExtension[kind];
  if (ext && !ext.startsWith('.')) ext = `.${ext}`;
  if (ext && !/^\.[a-z0-9]{1,10}$/i.test(ext)) throw new Error(`invalid artifact extension: ${extension}`);
  return `${kind}s/${sha256}${ext.toLowerCase()}`;
}

/** Only paths this store produced are accepted (no "..", no absolute paths). */
export function assertArtifactPath(p: string): void {
  if (!/^(models|datasets|images)\/[0-9a-f]{64}(\.[a-z0-9]{1,10})?$/.test(p)) throw new ArtifactNotFoundError(p);
}

/** Streams input to a temp file in `tmpDir`, hashing on the way. Caller moves or deletes the file. */
export async function spoolToTemp(input: Readable | Buffer, tmpDir: string, maxBytes?: number): Promise<{ file: string; sha256: string; size: number }> {
  await fs.promises.mkdir(tmpDir, { recursive: true, mode: DIR_MODE });
  const file = path.join(tmpDir, `.tmp-${crypto.randomUUID()}`);
  const hash = crypto.createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (maxBytes !== undefined && size > maxBytes) return cb(new ArtifactTooLargeError(maxBytes));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const source = Buffer.isBuffer(input) ? Readable.from([input]) : input;
  try {
    await pipeline(source, meter, fs.createWriteStream(file, { flags: 'wx', mode: FILE_MODE }));
  } catch (e) {
    await fs.promises.rm(file, { force: true });
    throw e;
  }
  return { file, sha256: hash.digest('hex'), size };
}

export class LocalArtifactStore implements ArtifactStore {
  readonly kind = 'local' as const;
  constructor(readonly dir: string) {}

  private full(p: string): string {
    assertArtifactPath(p);
    return path.join(this.dir, p);
  }

  async put(input: Readable | Buffer, opts: PutOptions): Promise<StoredArtifact> {
    const tmp = await spoolToTemp(input, path.join(this.dir, '.tmp'), opts.maxBytes);
    const p = artifactPath(opts.kind, tmp.sha256, opts.extension);
    const target = path.join(this.dir, p);
    try {
      await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: DIR_MODE });
      // Same content, same name: rename over an existing copy is harmless and atomic.
      await fs.promises.rename(tmp.file, target);
    } finally {
      await fs.promises.rm(tmp.file, { force: true });
    }
    return { path: p, sha256: tmp.sha256, size: tmp.size };
  }

  async get(p: string): Promise<Readable> {
    const file = this.full(p);
    // Open first so a missing file fails here, not on the first read.
    const handle = await fs.promises.open(file, 'r').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') throw new ArtifactNotFoundError(p);
      throw e;
    });
    return handle.createReadStream();
  }

  async stat(p: string): Promise<{ size: number } | null> {
    try {
      const s = await fs.promises.stat(this.full(p));
      return { size: s.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof ArtifactNotFoundError) return null;
      throw e;
    }
  }

  async delete(p: string): Promise<void> {
    await fs.promises.rm(this.full(p), { force: true });
  }
}

/** Reads a stored artifact fully — only for artifacts known to be small enough (ONNX models, JSON snapshots). */
export async function readArtifact(store: ArtifactStore, p: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(p)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function createArtifactStore(config: Pick<Config, 'storage' | 'dataDir'>): Promise<ArtifactStore> {
  if (config.storage.s3) {
    const { S3ArtifactStore } = await import('./s3-artifact-store.js');
    return new S3ArtifactStore(config.storage.s3, path.join(config.dataDir, 'tmp'));
  }
  return new LocalArtifactStore(config.storage.dir);
}
