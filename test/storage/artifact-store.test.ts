import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import nock from 'nock';
import { ArtifactNotFoundError, ArtifactTooLargeError, LocalArtifactStore, createArtifactStore, readArtifact } from '../../src/storage/artifact-store.js';
import { S3ArtifactStore } from '../../src/storage/s3-artifact-store.js';

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

describe('local artifact store', () => {
  let dir: string;
  let store: LocalArtifactStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-artifacts-'));
    store = new LocalArtifactStore(dir);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stores content-addressed with sha256 and size, and reads it back', async () => {
    const bytes = Buffer.from('onnx model bytes');
    const stored = await store.put(bytes, { kind: 'model' });
    expect(stored).toEqual({ path: `models/${sha(bytes)}.onnx`, sha256: sha(bytes), size: bytes.length });
    expect(await readArtifact(store, stored.path)).toEqual(bytes);
    expect(await store.stat(stored.path)).toEqual({ size: bytes.length });
    // Same content → same path, stored once; no temp files left.
    const again = await store.put(Readable.from([bytes.subarray(0, 4), bytes.subarray(4)]), { kind: 'model' });
    expect(again.path).toBe(stored.path);
    expect(fs.readdirSync(path.join(dir, '.tmp'))).toEqual([]);
    await store.delete(stored.path);
    expect(await store.stat(stored.path)).toBeNull();
    await expect(store.get(stored.path)).rejects.toBeInstanceOf(ArtifactNotFoundError);
  });

  it('streams a large input chunk by chunk (hash matches, never one buffer)', async () => {
    const chunk = crypto.randomBytes(1024 * 1024);
    const hash = crypto.createHash('sha256');
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent === 32) return this.push(null);
        sent++;
        hash.update(chunk);
        this.push(chunk);
      },
    });
    const stored = await store.put(source, { kind: 'dataset', extension: 'zip' });
    expect(stored.size).toBe(32 * 1024 * 1024);
    expect(stored.sha256).toBe(hash.digest('hex'));
    expect(stored.path).toBe(`datasets/${stored.sha256}.zip`);
  });

  it('refuses inputs over maxBytes and leaves nothing behind', async () => {
    await expect(store.put(Buffer.alloc(2048), { kind: 'image', maxBytes: 1024 })).rejects.toBeInstanceOf(ArtifactTooLargeError);
    expect(fs.readdirSync(path.join(dir, '.tmp'))).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'images'))).toBe(false);
  });

  it('refuses paths it did not produce (no traversal) and bad extensions', async () => {
    await expect(store.get('../../etc/passwd')).rejects.toBeInstanceOf(ArtifactNotFoundError);
    expect(await store.stat('models/../x')).toBeNull();
    await expect(store.put(Buffer.from('x'), { kind: 'image', extension: '../png' })).rejects.toThrow(/invalid artifact extension/);
  });

  it('createArtifactStore picks the local folder unless S3 is configured', async () => {
    const local = await createArtifactStore({ dataDir: dir, storage: { dir, s3: undefined } });
    expect(local.kind).toBe('local');
    const s3 = await createArtifactStore({ dataDir: dir, storage: { dir, s3: { bucket: 'b', region: 'us-east-1', endpoint: 'http://s3.test', accessKeyId: 'AK', secretAccessKey: 'SK', forcePathStyle: true } } });
    expect(s3.kind).toBe('s3');
  });
});

describe('S3 artifact store (S3-compatible endpoint mocked with nock)', () => {
  let dir: string;
  let store: S3ArtifactStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-s3-'));
    store = new S3ArtifactStore({ bucket: 'assay', region: 'us-east-1', endpoint: 'http://s3.test', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', forcePathStyle: true }, dir);
  });
  afterEach(() => {
    nock.cleanAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uploads with the content hash as key and a known length, skipping existing objects', async () => {
    const bytes = crypto.randomBytes(5000);
    const key = `models/${sha(bytes)}.onnx`;
    let uploaded: Buffer | undefined;
    let headers: Record<string, unknown> = {};
    nock('http://s3.test').head(`/assay/${key}`).reply(404);
    nock('http://s3.test')
      .put(`/assay/${key}`)
      .query(true)
      .reply(function (_uri, body) {
        headers = this.req.headers;
        uploaded = Buffer.from(body as string, 'hex');
        return [200, ''];
      });
    const stored = await store.put(bytes, { kind: 'model' });
    expect(stored).toEqual({ path: key, sha256: sha(bytes), size: 5000 });
    expect(headers['content-length']).toBe('5000');
    expect(uploaded?.length ?? 0).toBeGreaterThan(0);
    expect(nock.isDone()).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([]);

    nock('http://s3.test').head(`/assay/${key}`).reply(200, '', { 'content-length': '5000' });
    await store.put(bytes, { kind: 'model' }); // no PUT expected: nock would fail on an unexpected request
    expect(nock.isDone()).toBe(true);
  });

  it('reads objects back, maps 404 to not-found, and presigns GET URLs', async () => {
    const key = `datasets/${'a'.repeat(64)}.json`;
    nock('http://s3.test').get(`/assay/${key}`).query(true).reply(200, '{"ok":true}');
    expect((await readArtifact(store, key)).toString()).toBe('{"ok":true}');
    nock('http://s3.test').get(`/assay/${key}`).query(true).reply(404, '<Error><Code>NoSuchKey</Code></Error>');
    await expect(store.get(key)).rejects.toBeInstanceOf(ArtifactNotFoundError);
    nock('http://s3.test').head(`/assay/${key}`).reply(404);
    expect(await store.stat(key)).toBeNull();

    const url = new URL(await store.presignedUrl(key, 600));
    expect(url.origin + url.pathname).toBe(`http://s3.test/assay/${key}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('600');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\//);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });
});
