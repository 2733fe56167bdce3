// The edge API (/api/v1/edge): bearer token per edge server; assignments, signed downloads
// streamed from artifact storage, heartbeats that drive deployment status, retries.
import type { Express, NextFunction, Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { deriveKey } from '../app/secret.js';
import type { EdgeServer } from '../services/edge-service.js';
import { edgeActor, signDownload, verifyDownload } from '../services/edge-service.js';
import { ArtifactNotFoundError } from '../storage/artifact-store.js';
import { parseJsonBody, readBody } from './body.js';
import { HttpError } from './errors.js';
import { registerOperation, registerSecurityScheme } from './openapi.js';

export const EDGE_BASE = '/api/v1/edge';

// ---- schemas (validation and the OpenAPI document) ----------------------------------------

const modelParams = z.object({ modelId: z.uuid().describe('Model id') });
const deploymentParams = z.object({ deploymentId: z.uuid().describe('Deployment id') });
const downloadQuery = z.object({
  expires: z.coerce.number().int().positive().describe('Expiry, unix seconds (from the signed URL)'),
  sig: z.string().regex(/^[0-9a-f]{64}$/).describe('HMAC-SHA256 signature (from the signed URL)'),
});
export const heartbeatBody = z
  .object({
    models: z
      .array(z.object({ modelId: z.uuid(), version: z.number().int().positive().optional(), modelName: z.string().max(200).optional() }).strict())
      .max(1000)
      .default([])
      .describe('The models the edge server runs now'),
    deployments: z
      .array(
        z
          .object({
            deploymentId: z.uuid(),
            status: z.enum(['downloading', 'installing', 'completed', 'failed']),
            progress: z.number().min(0).max(1).optional(),
            error: z.string().min(1).max(2000).optional(),
          })
          .strict(),
      )
      .max(1000)
      .default([])
      .describe('Progress of this edge server’s deployments'),
  })
  .strict();

const errorBody = z.object({ error: z.string(), code: z.string().optional(), issues: z.array(z.object({ path: z.string(), message: z.string() })).optional() });
const deploymentView = z.object({
  id: z.uuid(),
  modelId: z.uuid(),
  status: z.enum(['pending', 'downloading', 'installing', 'completed', 'failed', 'rolled_back']),
  progress: z.number(),
  retryCount: z.number().int(),
  error: z.string().nullable(),
});
const size = z.object({ height: z.number().int(), width: z.number().int() });
const detectRuntime = z
  .object({
    task: z.literal('detect'),
    format: z.literal('onnx'),
    input: z.object({ name: z.string(), shape: z.array(z.number().int()).describe('[1, 3, H, W]'), dtype: z.literal('float32'), layout: z.literal('NCHW'), colour: z.literal('RGB') }),
    inputSize: size,
    classNames: z.array(z.string()).describe('Class names in the order of the output’s score rows'),
    preprocess: z.object({ resize: z.literal('letterbox'), padValue: z.number().describe('114'), scale: z.number().describe('1/255') }),
    postprocess: z.object({
      output: z.object({ name: z.string(), shape: z.array(z.number().int()).describe('[1, 4 + classes, candidates]'), rows: z.string() }),
      confThreshold: z.number(),
      iouThreshold: z.number(),
      nms: z.literal('class-aware'),
      maxDetections: z.number().int(),
    }),
  })
  .describe('Ultralytics-layout detector: letterbox to inputSize (pad 114), RGB /255 NCHW; boxes cx, cy, w, h in input pixels, class-aware NMS');
const classifyRuntime = z
  .object({
    task: z.literal('classify'),
    format: z.literal('onnx'),
    input: z.object({ name: z.string(), shape: z.array(z.number().int()).nullable().describe('[1, S, S, 3]'), dtype: z.literal('float32'), layout: z.literal('NHWC'), colour: z.literal('RGB') }),
    inputSize: size.nullable(),
    classNames: z.array(z.string()).describe('Labels in the order of the output’s probabilities'),
    preprocess: z.object({ resize: z.string(), scale: z.number() }),
    postprocess: z.object({ output: z.object({ name: z.string(), shape: z.tuple([z.literal('N'), z.number().int()]) }), kind: z.string() }),
  })
  .describe('Crop classifier: the annotation box stretched to inputSize, RGB /255 NHWC; softmax output');
const assignmentsBody = z.object({
  edge: z.string(),
  assignments: z.array(
    z.object({
      testTypeId: z.uuid(),
      kitId: z.string(),
      kitName: z.string(),
      aiOptionUid: z.uuid(),
      optionName: z.string(),
      modelId: z.uuid(),
      modelName: z.string(),
      version: z.number().int(),
      task: z.enum(['detect', 'classify']),
      kind: z.enum(['classifier', 'detector']).describe('Older name of task (classifier = classify, detector = detect)'),
      runtime: z.union([detectRuntime, classifyRuntime]).nullable().describe('What the edge needs to run the model; null only for legacy detector rows'),
      labels: z.array(z.string()),
      sha256: z.string().nullable(),
      size: z.number().int().nullable(),
      activatedAt: z.string().nullable(),
      deployment: z.object({ id: z.uuid(), status: z.string() }).nullable(),
    }),
  ),
});
const downloadUrlBody = z.object({ url: z.string(), expiresAt: z.string(), modelName: z.string(), sha256: z.string().nullable(), size: z.number().int().nullable() });
const heartbeatReply = z.object({ received: z.literal(true), changed: z.array(deploymentView), deployments: z.array(deploymentView).describe('This edge’s open deployments') });

const tags = ['edge'];
const security = ['edgeToken'];
const common = {
  400: { description: 'Malformed request (zod issues listed)', body: errorBody },
  401: { description: 'Missing or unknown bearer token', body: errorBody },
  403: { description: 'Edge server revoked, or not allowed', body: errorBody },
};

registerSecurityScheme('edgeToken', { type: 'http', scheme: 'bearer', description: 'Per edge server token printed once by `assay edge add NAME`' });
registerOperation({
  method: 'get',
  path: `${EDGE_BASE}/assignments`,
  summary: 'The active model of every kit option, with version, sha256 and size',
  tags,
  security,
  responses: { 200: { description: 'Assignments', body: assignmentsBody }, 401: common[401], 403: common[403] },
});
registerOperation({
  method: 'get',
  path: `${EDGE_BASE}/models/:modelId/download-url`,
  summary: 'A signed download URL for one model, bound to this edge server, expiring',
  tags,
  security,
  request: { params: modelParams },
  responses: { 200: { description: 'Signed URL', body: downloadUrlBody }, ...common, 404: { description: 'Unknown model or no artifact', body: errorBody } },
});
registerOperation({
  method: 'get',
  path: `${EDGE_BASE}/models/:modelId/download`,
  summary: 'Download the model artifact (streamed; redirects to a pre-signed S3 URL when S3 is used)',
  tags,
  security,
  request: { params: modelParams, query: downloadQuery },
  responses: {
    200: {
      description: 'The artifact bytes',
      body: z.string().describe('binary'),
      contentType: 'application/octet-stream',
      headers: { ETag: 'Quoted sha256 of the artifact', 'X-Content-SHA256': 'sha256 of the artifact (hex)', 'Content-Length': 'Size in bytes' },
    },
    302: { description: 'Redirect to a pre-signed S3 URL', headers: { Location: 'Pre-signed URL' } },
    304: { description: 'Not modified (If-None-Match matched the ETag)' },
    ...common,
    403: { description: 'Expired, tampered or another edge server’s URL; or revoked edge', body: errorBody },
    404: { description: 'Unknown model or artifact', body: errorBody },
  },
});
registerOperation({
  method: 'post',
  path: `${EDGE_BASE}/heartbeat`,
  summary: 'Report the models running and per-deployment progress; deployment status follows',
  tags,
  security,
  request: { body: heartbeatBody },
  responses: {
    200: { description: 'Recorded', body: heartbeatReply },
    ...common,
    403: { description: 'A deployment of another edge server, or revoked edge', body: errorBody },
    404: { description: 'Unknown deployment', body: errorBody },
    409: { description: 'Illegal status change (both states named); nothing recorded', body: errorBody },
  },
});
registerOperation({
  method: 'post',
  path: `${EDGE_BASE}/deployments/:deploymentId/retry`,
  summary: 'Retry a failed deployment (back to pending)',
  tags,
  security,
  request: { params: deploymentParams },
  responses: {
    200: { description: 'Pending again', body: deploymentView },
    ...common,
    404: { description: 'Unknown deployment', body: errorBody },
    409: { description: 'The deployment is not failed', body: errorBody },
  },
});

// ---- handlers -----------------------------------------------------------------------------

type EdgeRequest = Request & { edge?: EdgeServer };

const view = (d: { id: string; modelId: string; status: string; progress: number; retryCount: number; error: string | null }) => ({
  id: d.id,
  modelId: d.modelId,
  status: d.status,
  progress: d.progress,
  retryCount: d.retryCount,
  error: d.error,
});

export function registerEdgeRoutes(app: Express, ctx: AppContext): void {
  const downloadKey = deriveKey(ctx.secret, 'download');
  const { edges, deployments } = ctx.services;

  const requireEdge = async (req: EdgeRequest, res: Response, next: NextFunction) => {
    const m = /^Bearer\s+(\S{1,512})$/i.exec(req.get('authorization') ?? '');
    if (!m) {
      res.set('WWW-Authenticate', 'Bearer realm="assay-edge"');
      return next(new HttpError(401, 'edge token required (Authorization: Bearer <token>)'));
    }
    const auth = await edges.authenticate(m[1]!);
    if (!auth.ok && auth.reason === 'revoked') return next(new HttpError(403, 'this edge server has been revoked'));
    if (!auth.ok) {
      res.set('WWW-Authenticate', 'Bearer realm="assay-edge", error="invalid_token"');
      return next(new HttpError(401, 'unknown edge token'));
    }
    req.edge = auth.edge;
    next();
  };
  const edgeOf = (req: EdgeRequest) => req.edge!;

  app.use(EDGE_BASE, requireEdge);

  app.get(`${EDGE_BASE}/assignments`, async (req: EdgeRequest, res) => {
    const edge = edgeOf(req);
    res.json({ edge: edge.name, assignments: await edges.assignments(edge) });
  });

  app.get(`${EDGE_BASE}/models/:modelId/download-url`, async (req: EdgeRequest, res) => {
    const { modelId } = modelParams.parse(req.params);
    const edge = edgeOf(req);
    const model = await edges.downloadableModel(modelId);
    const expires = Math.floor(Date.now() / 1000) + ctx.config.downloadUrlTtlSeconds;
    const sig = signDownload(downloadKey, model.id, edge.id, expires);
    await edges.downloadUrlIssued(edge, model.id, expires);
    res.json({
      url: `${ctx.config.publicUrl}${EDGE_BASE}/models/${model.id}/download?expires=${expires}&sig=${sig}`,
      expiresAt: new Date(expires * 1000).toISOString(),
      modelName: model.modelName,
      sha256: model.artifactSha256,
      size: model.artifactSize == null ? null : Number(model.artifactSize),
    });
  });

  app.get(`${EDGE_BASE}/models/:modelId/download`, async (req: EdgeRequest, res) => {
    const { modelId } = modelParams.parse(req.params);
    const { expires, sig } = downloadQuery.parse(req.query);
    const edge = edgeOf(req);
    // Unknown model → 404 first (only authenticated edges get this far); then the link itself.
    await edges.modelExists(modelId);
    const check = verifyDownload(downloadKey, modelId, edge.id, expires, sig);
    if (!check.ok) throw new HttpError(403, check.reason);
    const model = await edges.downloadableModel(modelId);
    const path = model.s3ModelPath!;
    const store = ctx.artifacts;
    if (store.presignedUrl) {
      const ttl = Math.max(1, Math.min(ctx.config.downloadUrlTtlSeconds, expires - Math.floor(Date.now() / 1000)));
      res.redirect(302, await store.presignedUrl(path, ttl));
      return;
    }
    const stat = await store.stat(path);
    if (!stat) throw new HttpError(404, `the artifact of model ${model.modelName} is missing from storage`);
    const sha = model.artifactSha256;
    if (sha) {
      res.set('ETag', `"${sha}"`);
      res.set('X-Content-SHA256', sha);
      if (req.get('if-none-match') === `"${sha}"`) {
        res.status(304).end();
        return;
      }
    }
    let body;
    try {
      body = await store.get(path);
    } catch (e) {
      if (e instanceof ArtifactNotFoundError) throw new HttpError(404, `the artifact of model ${model.modelName} is missing from storage`);
      throw e;
    }
    res.status(200);
    res.set('Content-Type', 'application/octet-stream');
    res.set('Content-Length', String(stat.size));
    res.set('Content-Disposition', `attachment; filename="${model.modelName}.onnx"`);
    res.set('Cache-Control', 'private, no-store');
    try {
      // Streamed with back-pressure: memory stays flat whatever the artifact size.
      await pipeline(body, res);
    } catch (err) {
      // The client went away or storage failed mid-stream: headers are gone, just end it.
      if (!res.writableFinished) ctx.logger.warn({ err, modelId: model.id, edge: edge.name }, 'model download interrupted');
      res.destroy();
    }
  });

  app.post(`${EDGE_BASE}/heartbeat`, readBody({ limitBytes: 256 * 1024, types: ['application/json'] }), async (req: EdgeRequest, res) => {
    const report = heartbeatBody.parse(parseJsonBody(req.body as Buffer, 'the heartbeat'));
    const edge = edgeOf(req);
    const result = await edges.recordHeartbeat(edge, report);
    await edges.announceHeartbeat(result, edge).catch((err) => ctx.logger.error({ err }, 'heartbeat notices failed'));
    res.json({ received: true, changed: result.changed.map(view), deployments: (await edges.openDeployments(edge)).map(view) });
  });

  app.post(`${EDGE_BASE}/deployments/:deploymentId/retry`, async (req: EdgeRequest, res) => {
    const { deploymentId } = deploymentParams.parse(req.params);
    const edge = edgeOf(req);
    const d = await deployments.retry({ deploymentId, actor: edgeActor(edge), edgeId: edge.id });
    res.json(view(d));
  });
}
