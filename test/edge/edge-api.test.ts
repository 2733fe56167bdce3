// The edge API over real HTTP against the running server: token auth, assignments, signed
// download links (expiry, tampering, other edges), streamed download integrity, heartbeats
// driving deployment status, retries, stale-edge notices and the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { AuditLogEntry, Deployment, EdgeServer } from '../../src/db/entities/index.js';
import { deriveKey } from '../../src/app/secret.js';
import { systemActor } from '../../src/services/audit.js';
import { deployModel } from '../../src/services/deployment-service.js';
import { addEdge, hashEdgeToken, reportStaleEdges, revokeEdge, signDownload } from '../../src/services/edge-service.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { seeded } from '../helpers/factories.js';
import { approvedModel, modelInState } from '../helpers/models.js';
import type { Model } from '../../src/db/entities/index.js';
import { classifyRuntime, detectRuntime } from '../../src/domain/index.js';

let assay: TestAssay;
const tokens: Record<string, string> = {};
const edges: Record<string, EdgeServer> = {};
let model: Model;
let artifact: { path: string; sha256: string; size: number };
const approvers = new Set(['UBOSS']);
const m = () => assay.ctx.db.dataSource.manager;

const call = (path: string, token: string | null, init: RequestInit = {}) =>
  fetch(`${assay.url}${path}`, { ...init, redirect: 'manual', headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) } });
// Node 20's fetch types answer `unknown`; these tests inspect the bodies freely.
const asJson = (r: Response): Promise<any> => r.json();
const beat = (token: string, body: unknown) => call('/api/v1/edge/heartbeat', token, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

beforeAll(async () => {
  assay = await startTestAssay({}, { worker: false });
  const cat = await seeded(m());
  for (const name of ['edge-1', 'edge-2', 'edge-old']) {
    const made = await addEdge(m(), name, systemActor);
    tokens[name] = made.token;
    edges[name] = made.edge;
  }
  await revokeEdge(m(), 'edge-old', systemActor);
  artifact = await assay.ctx.artifacts.put(randomBytes(3 * 1024 * 1024 + 17), { kind: 'model' });
  model = await approvedModel(assay.ctx.db.dataSource, { optionUids: [cat.option('red_light').uid], kitIds: [cat.kit('4567').id], artifact });
  await deployModel(assay.ctx.db.dataSource, { modelId: model.id, actor: 'UBOSS', approvers });
});
afterAll(async () => assay.stop());

describe('edge authentication', () => {
  it('needs a known bearer token; revoked edges are refused; tokens are stored hashed', async () => {
    expect((await call('/api/v1/edge/assignments', null)).status).toBe(401);
    const bad = await call('/api/v1/edge/assignments', 'assay_edge_nope');
    expect(bad.status).toBe(401);
    expect(await asJson(bad)).toEqual({ error: 'unknown edge token' });
    const revoked = await call('/api/v1/edge/assignments', tokens['edge-old']!);
    expect(revoked.status).toBe(403);
    const row = await m().findOneByOrFail(EdgeServer, { name: 'edge-1' });
    expect(row.tokenHash).toBe(hashEdgeToken(tokens['edge-1']!));
    expect(JSON.stringify(await m().find(AuditLogEntry))).not.toContain(tokens['edge-1']!);
  });
});

describe('assignments and downloads', () => {
  it('lists the active model per kit option with version, sha256, size and this edge’s deployment', async () => {
    const r = await call('/api/v1/edge/assignments', tokens['edge-1']!);
    expect(r.status).toBe(200);
    const body = await asJson(r);
    expect(body.edge).toBe('edge-1');
    expect(body.assignments).toEqual([
      expect.objectContaining({ kitId: '4567', optionName: 'red_light', modelId: model.id, version: model.modelVersion, sha256: artifact.sha256, size: artifact.size }),
    ]);
    const mine = await m().findOneByOrFail(Deployment, { modelId: model.id, edgeServerId: edges['edge-1']!.id });
    expect(body.assignments[0].deployment).toEqual({ id: mine.id, status: 'pending' });
    // A classifier keeps its old `kind` and gains its task and what the edge needs to run it.
    expect(body.assignments[0]).toMatchObject({ task: 'classify', kind: 'classifier', runtime: classifyRuntime({ labels: model.labels, inputShape: null }) });
  });

  it('streams the artifact through a signed URL: sha256 of the bytes equals the stored one', async () => {
    const r = await call(`/api/v1/edge/models/${model.id}/download-url`, tokens['edge-1']!);
    expect(r.status).toBe(200);
    const link = await asJson(r);
    expect(link).toMatchObject({ sha256: artifact.sha256, size: artifact.size, modelName: model.modelName });
    const path = new URL(link.url).pathname + new URL(link.url).search;
    const dl = await call(path, tokens['edge-1']!);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-length')).toBe(String(artifact.size));
    expect(dl.headers.get('etag')).toBe(`"${artifact.sha256}"`);
    expect(dl.headers.get('x-content-sha256')).toBe(artifact.sha256);
    const bytes = Buffer.from(await dl.arrayBuffer());
    expect(bytes.length).toBe(artifact.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(artifact.sha256);
    // Conditional request: the edge already has these bytes.
    expect((await call(path, tokens['edge-1']!, { headers: { 'if-none-match': `"${artifact.sha256}"` } })).status).toBe(304);
  });

  it('refuses expired, tampered and other edges’ links with 403, unknown models with 404', async () => {
    const key = deriveKey(assay.ctx.secret, 'download');
    const edge1 = edges['edge-1']!.id;
    const url = (modelId: string, expires: number, sig: string) => `/api/v1/edge/models/${modelId}/download?expires=${expires}&sig=${sig}`;
    const future = Math.floor(Date.now() / 1000) + 600;
    const past = Math.floor(Date.now() / 1000) - 1;

    const expired = await call(url(model.id, past, signDownload(key, model.id, edge1, past)), tokens['edge-1']!);
    expect(expired.status).toBe(403);
    expect(await asJson(expired)).toEqual({ error: 'download link has expired' });

    const good = signDownload(key, model.id, edge1, future);
    const flipped = (good[0] === 'a' ? 'b' : 'a') + good.slice(1);
    expect((await call(url(model.id, future, flipped), tokens['edge-1']!)).status).toBe(403);
    expect((await call(url(model.id, future + 3600, good), tokens['edge-1']!)).status).toBe(403); // extended expiry
    const otherEdge = await call(url(model.id, future, good), tokens['edge-2']!);
    expect(otherEdge.status).toBe(403);
    expect((await asJson(otherEdge)).error).toMatch(/another edge server/);
    expect((await call(url(model.id, future, good), tokens['edge-1']!)).status).toBe(200);

    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await call(`/api/v1/edge/models/${unknown}/download-url`, tokens['edge-1']!)).status).toBe(404);
    expect((await call(url(unknown, future, signDownload(key, unknown, edge1, future)), tokens['edge-1']!)).status).toBe(404);
    const malformed = await call(`/api/v1/edge/models/not-a-uuid/download-url`, tokens['edge-1']!);
    expect(malformed.status).toBe(400);
    expect((await asJson(malformed)).issues[0].path).toBe('modelId');
  });

  it('redirects to a pre-signed URL when the store has them (S3), after the same checks', async () => {
    const local = assay.ctx.artifacts;
    const asked: [string, number][] = [];
    assay.ctx.artifacts = Object.assign(Object.create(local), {
      presignedUrl: async (p: string, ttl: number) => {
        asked.push([p, ttl]);
        return `https://bucket.s3.example/${p}?X-Amz-Signature=abc`;
      },
    });
    try {
      const link = await asJson(await call(`/api/v1/edge/models/${model.id}/download-url`, tokens['edge-1']!));
      const u = new URL(link.url);
      const r = await call(u.pathname + u.search, tokens['edge-1']!);
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toBe(`https://bucket.s3.example/${artifact.path}?X-Amz-Signature=abc`);
      expect(asked[0]![1]).toBeLessThanOrEqual(assay.config.downloadUrlTtlSeconds);
      expect((await call(u.pathname + u.search, tokens['edge-2']!)).status).toBe(403);
      expect(asked).toHaveLength(1);
    } finally {
      assay.ctx.artifacts = local;
    }
  });

  it('never hands out a model that is not approved', async () => {
    const cat = await seeded(m());
    const pending = await modelInState(assay.ctx.db.dataSource, { optionUids: [cat.option('stop_sign').uid], status: 'pending_approval', artifact });
    const r = await call(`/api/v1/edge/models/${pending.id}/download-url`, tokens['edge-1']!);
    expect(r.status).toBe(403);
    expect((await asJson(r)).error).toMatch(/pending_approval: only approved models can be downloaded/);
  });
});

describe('heartbeats', () => {
  const mine = (edge: string) => m().findOneByOrFail(Deployment, { modelId: model.id, edgeServerId: edges[edge]!.id });

  it('drive the deployment status and record what the edge runs', async () => {
    const d = await mine('edge-1');
    const seen: string[] = [];
    assay.ctx.events.on('deployment.changed', (e) => void (e.deploymentId === d.id && seen.push(e.status)));
    let r = await beat(tokens['edge-1']!, { deployments: [{ deploymentId: d.id, status: 'downloading', progress: 0.4 }] });
    expect(r.status).toBe(200);
    expect((await asJson(r)).changed).toEqual([expect.objectContaining({ id: d.id, status: 'downloading', progress: expect.closeTo(0.4, 5) })]);
    r = await beat(tokens['edge-1']!, { deployments: [{ deploymentId: d.id, status: 'downloading', progress: 0.9 }] });
    expect((await mine('edge-1')).progress).toBeCloseTo(0.9, 5);
    r = await beat(tokens['edge-1']!, { deployments: [{ deploymentId: d.id, status: 'installing' }] });
    r = await beat(tokens['edge-1']!, { models: [{ modelId: model.id, version: model.modelVersion }], deployments: [{ deploymentId: d.id, status: 'completed' }] });
    expect(r.status).toBe(200);
    const done = await mine('edge-1');
    expect(done).toMatchObject({ status: 'completed', progress: 1 });
    expect(done.completedAt).toBeInstanceOf(Date);
    expect(seen).toEqual(['downloading', 'installing', 'completed']);
    const edge = await m().findOneByOrFail(EdgeServer, { name: 'edge-1' });
    expect(edge.reportedModels).toEqual([{ modelId: model.id, version: model.modelVersion }]);
    expect(edge.lastHeartbeatAt).toBeInstanceOf(Date);
    expect(await m().countBy(AuditLogEntry, { entityId: d.id, action: 'deployment.completed', actorType: 'edge', actorId: 'edge-1' })).toBe(1);
  });

  it('refuses illegal transitions (409, both states named) and changes nothing', async () => {
    const d = await mine('edge-1'); // completed
    const before = (await m().findOneByOrFail(EdgeServer, { name: 'edge-1' })).lastHeartbeatAt;
    const r = await beat(tokens['edge-1']!, { deployments: [{ deploymentId: d.id, status: 'downloading' }] });
    expect(r.status).toBe(409);
    expect((await asJson(r)).error).toBe('deployment cannot go from "completed" to "downloading"');
    expect((await mine('edge-1')).status).toBe('completed');
    expect((await m().findOneByOrFail(EdgeServer, { name: 'edge-1' })).lastHeartbeatAt).toEqual(before);
  });

  it('refuses another edge’s deployment (403), unknown ones (404) and malformed bodies (400 with issues)', async () => {
    const other = await mine('edge-2');
    const r = await beat(tokens['edge-1']!, { deployments: [{ deploymentId: other.id, status: 'downloading' }] });
    expect(r.status).toBe(403);
    expect((await mine('edge-2')).status).toBe('pending');
    expect((await beat(tokens['edge-1']!, { deployments: [{ deploymentId: '00000000-0000-4000-8000-000000000000', status: 'downloading' }] })).status).toBe(404);
    const bad = await beat(tokens['edge-1']!, { deployments: [{ deploymentId: other.id, status: 'exploded' }] });
    expect(bad.status).toBe(400);
    const body = await asJson(bad);
    expect(body.error).toBe('invalid request');
    expect(body.issues[0].path).toBe('deployments.0.status');
    const notJson = await call('/api/v1/edge/heartbeat', tokens['edge-1']!, { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
  });

  it('a failure is reported to ops; the edge may retry it (back to pending, counted)', async () => {
    const d = await mine('edge-2');
    const r = await beat(tokens['edge-2']!, { deployments: [{ deploymentId: d.id, status: 'failed', error: 'checksum mismatch' }] });
    expect(r.status).toBe(200);
    expect((await asJson(r)).deployments).toEqual([expect.objectContaining({ id: d.id, status: 'failed', error: 'checksum mismatch' })]);
    const notice = await m().findBy(AuditLogEntry, { action: 'notice.deployment.failed', entityId: d.id });
    expect(notice).toHaveLength(1);
    expect((notice[0]!.details as { text: string }).text).toMatch(/failed on edge server edge-2: checksum mismatch/);

    expect((await call(`/api/v1/edge/deployments/${d.id}/retry`, tokens['edge-1']!, { method: 'POST' })).status).toBe(403);
    const retried = await call(`/api/v1/edge/deployments/${d.id}/retry`, tokens['edge-2']!, { method: 'POST' });
    expect(retried.status).toBe(200);
    expect(await asJson(retried)).toMatchObject({ id: d.id, status: 'pending', retryCount: 1, error: null });
    const again = await call(`/api/v1/edge/deployments/${d.id}/retry`, tokens['edge-2']!, { method: 'POST' });
    expect(again.status).toBe(409);
    expect((await asJson(again)).error).toBe('deployment cannot go from "pending" to "pending"');
  });
});

describe('stale edges', () => {
  it('are reported once per silence; a heartbeat clears the mark', async () => {
    const ds = assay.ctx.db.dataSource;
    await m().query(`UPDATE edge_servers SET last_heartbeat_at = now() - interval '2 hours' WHERE name = 'edge-2'`);
    await m().query(`UPDATE edge_servers SET last_heartbeat_at = now() WHERE name = 'edge-1'`);
    const first = await reportStaleEdges(ds, 15, assay.ctx.notifier);
    expect(first.map((e) => e.name)).toEqual(['edge-2']);
    expect(await reportStaleEdges(ds, 15, assay.ctx.notifier)).toEqual([]);
    const notices = await m().findBy(AuditLogEntry, { action: 'notice.edge.stale', entityId: edges['edge-2']!.id });
    expect(notices).toHaveLength(1);
    expect((await beat(tokens['edge-2']!, {})).status).toBe(200);
    expect((await m().findOneByOrFail(EdgeServer, { name: 'edge-2' })).staleNotifiedAt).toBeNull();
  });
});

describe('OpenAPI', () => {
  it('documents the edge API from the zod schemas that validate it', async () => {
    const r = await fetch(`${assay.url}/openapi.json`);
    expect(r.status).toBe(200);
    const doc = await asJson(r);
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/edge/assignments',
        '/api/v1/edge/heartbeat',
        '/api/v1/edge/models/{modelId}/download',
        '/api/v1/edge/models/{modelId}/download-url',
        '/api/v1/edge/deployments/{deploymentId}/retry',
      ]),
    );
    const hb = doc.paths['/api/v1/edge/heartbeat'].post;
    const schema = hb.requestBody.content['application/json'].schema;
    expect(schema.properties.deployments.items.properties.status.enum).toEqual(['downloading', 'installing', 'completed', 'failed']);
    expect(hb.security).toEqual([{ edgeToken: [] }]);
    expect(doc.components.securitySchemes.edgeToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    const dl = doc.paths['/api/v1/edge/models/{modelId}/download'].get;
    expect(dl.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(['path:modelId', 'query:expires', 'query:sig']);
  });
});

describe('detector assignments', () => {
  it('carry task detect and the runtime: input size, class names in output order, letterbox and NMS defaults', async () => {
    const cat = await seeded(m());
    const runtime = detectRuntime({ inputSize: { height: 320, width: 320 }, classNames: ['pad_positive', 'control_line'], candidates: 2100 });
    const det = await approvedModel(assay.ctx.db.dataSource, { optionUids: [cat.option('green_light').uid], kitIds: [cat.kit('4567').id], artifact, name: 'lights_det', runtime });
    await deployModel(assay.ctx.db.dataSource, { modelId: det.id, actor: 'UBOSS', approvers });
    const body = await asJson(await call('/api/v1/edge/assignments', tokens['edge-1']!));
    const a = body.assignments.find((x: { modelId: string }) => x.modelId === det.id);
    expect(a).toMatchObject({ optionName: 'green_light', task: 'detect', kind: 'detector', runtime });
    expect(a.runtime).toMatchObject({
      input: { shape: [1, 3, 320, 320], layout: 'NCHW', colour: 'RGB' },
      classNames: ['pad_positive', 'control_line'],
      preprocess: { resize: 'letterbox', padValue: 114, scale: 1 / 255 },
      postprocess: { output: { shape: [1, 6, 2100] }, confThreshold: 0.25, iouThreshold: 0.7 },
    });
    // The OpenAPI document describes both descriptors.
    const doc = await asJson(await fetch(`${assay.url}/openapi.json`));
    const item = doc.paths['/api/v1/edge/assignments'].get.responses['200'].content['application/json'].schema.properties.assignments.items;
    expect(item.properties.task.enum).toEqual(['detect', 'classify']);
    expect(JSON.stringify(item.properties.runtime)).toContain('letterbox');
    expect(item.required).toEqual(expect.arrayContaining(['task', 'runtime']));
  });
});
