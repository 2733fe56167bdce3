// S3 (or any S3-compatible endpoint) artifact storage. The content hash decides the key, so the
// input is spooled to a temp file first; the upload then streams that file with a known length
// (no whole-file buffering, no multipart dependency).
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Config } from '../config/index.js';
import { ArtifactNotFoundError, artifactPath, assertArtifactPath, spoolToTemp, type ArtifactStore, type PutOptions, type StoredArtifact } from './artifact-store.js';

type S3Config = NonNullable<Config['storage']['s3']>;

const contentTypes: Record<string, string> = { '.onnx': 'application/octet-stream', '.json': 'application/json', '.png': 'image/png', '.jpg': 'image/jpeg' };

/** Minimal hash for SignatureV4 (node's crypto behind the smithy Checksum interface). */
class NodeSha256 {
  private h: crypto.Hash | crypto.Hmac;
  constructor(secret?: string | Uint8Array) {
    this.h = secret ? crypto.createHmac('sha256', secret) : crypto.createHash('sha256');
  }
  update(data: string | Uint8Array): void {
    this.h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
  reset(): void {}
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.$metadata?.httpStatusCode === 404;
}

export class S3ArtifactStore implements ArtifactStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;

  constructor(
    private readonly s3: S3Config,
    private readonly tmpDir: string,
  ) {
    this.client = new S3Client({
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: s3.forcePathStyle,
      credentials: s3.accessKeyId && s3.secretAccessKey ? { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } : undefined,
    });
  }

  async put(input: Readable | Buffer, opts: PutOptions): Promise<StoredArtifact> {
    const tmp = await spoolToTemp(input, this.tmpDir, opts.maxBytes);
    try {
      const key = artifactPath(opts.kind, tmp.sha256, opts.extension);
      if (!(await this.stat(key))) {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.s3.bucket,
            Key: key,
            Body: fs.createReadStream(tmp.file),
            ContentLength: tmp.size,
            ContentType: opts.contentType ?? contentTypes[key.slice(key.lastIndexOf('.'))] ?? 'application/octet-stream',
            ChecksumSHA256: Buffer.from(tmp.sha256, 'hex').toString('base64'),
          }),
        );
      }
      return { path: key, sha256: tmp.sha256, size: tmp.size };
    } finally {
      await fs.promises.rm(tmp.file, { force: true });
    }
  }

  async get(p: string): Promise<Readable> {
    assertArtifactPath(p);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.s3.bucket, Key: p }));
      return out.Body as Readable;
    } catch (e) {
      if (isNotFound(e)) throw new ArtifactNotFoundError(p);
      throw e;
    }
  }

  async stat(p: string): Promise<{ size: number } | null> {
    assertArtifactPath(p);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.s3.bucket, Key: p }));
      return { size: Number(out.ContentLength ?? 0) };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async presignedUrl(p: string, ttlSeconds: number): Promise<string> {
    assertArtifactPath(p);
    const base = this.bucketBaseUrl();
    const pathname = `${base.pathname.replace(/\/$/, '')}/${p}`;
    const signer = new SignatureV4({ service: 's3', region: this.s3.region, credentials: this.client.config.credentials, sha256: NodeSha256 as never, uriEscapePath: false });
    const signed = await signer.presign(
      { method: 'GET', protocol: base.protocol, hostname: base.hostname, port: base.port ? Number(base.port) : undefined, path: pathname, headers: { host: base.host }, query: {} } as never,
      { expiresIn: ttlSeconds, unsignableHeaders: new Set() },
    );
    const url = new URL(`${base.protocol}//${base.host}${pathname}`);
    for (const [k, v] of Object.entries((signed as { query: Record<string, string> }).query)) url.searchParams.set(k, v);
    return url.toString();
  }

  /** Virtual-hosted style unless path style is forced (MinIO and most S3-compatible servers). */
  private bucketBaseUrl(): URL {
    const endpoint = new URL(this.s3.endpoint ?? `https://s3.${this.s3.region}.amazonaws.com`);
    if (this.s3.forcePathStyle) return new URL(`${endpoint.origin}${endpoint.pathname.replace(/\/$/, '')}/${this.s3.bucket}`);
    return new URL(`${endpoint.protocol}//${this.s3.bucket}.${endpoint.host}${endpoint.pathname.replace(/\/$/, '')}`);
  }

  async delete(p: string): Promise<void> {
    assertArtifactPath(p);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.s3.bucket, Key: p }));
  }
}
