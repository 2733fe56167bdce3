// POST /webhooks/trainer: HMAC-signed progress and completion from the remote trainer.
// GET /artifacts/<path>?expires&sig: the signed links the trainer downloads datasets/images from
// when artifacts are stored locally (S3 stores hand out pre-signed URLs instead).
import type { Express } from 'express';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { applyTrainerUpdate, ArtifactRefusedError, ModelRefusedError, trainerCallbackSchema, TransientTrainerError, UnknownTrainerJobError } from '../services/remote-trainer-service.js';
import { verifySignature } from '../domain/signature.js';
import { ArtifactNotFoundError, assertArtifactPath } from '../storage/artifact-store.js';
import { verifyArtifactLink } from '../storage/artifact-links.js';
import { parseJsonBody, readBody } from './body.js';
import { countRefusals } from './metrics-route.js';
import { HttpError } from './errors.js';
import { registerOperation } from './openapi.js';

registerOperation({
  method: 'post',
  path: '/webhooks/trainer',
  summary: 'Remote trainer callback (progress, completed, failed)',
  description: 'Signed with TRAINER_SECRET: X-Assay-Timestamp (unix seconds, 5 minute window) and X-Assay-Signature: sha256=HMAC-SHA256(secret, `${timestamp}.${body}`). Repeats of a final callback are answered 200 with status "duplicate".',
  tags: ['trainer'],
  request: { body: trainerCallbackSchema, headers: z.object({ 'x-assay-timestamp': z.string(), 'x-assay-signature': z.string() }) },
  responses: {
    200: { description: 'Applied (or a duplicate); status "cancel" asks the trainer to stop', body: z.object({ status: z.enum(['ok', 'duplicate', 'cancel']), modelId: z.string().optional() }) },
    400: { description: 'Malformed callback' },
    401: { description: 'Missing or bad signature, or stale timestamp' },
    413: { description: 'Body over 256 KB' },
    415: { description: 'Not application/json' },
    422: { description: 'The completed callback names an artifact URL that is refused (not https, private address, wrong content type, too large, HTTP error), or, for a detect training, a file that is not an Ultralytics-layout detector of the training\'s classes; the training fails with the reason and no model version is created' },
    404: { description: 'Unknown job' },
    503: { description: 'Remote trainer not configured, or the artifact host did not answer (send the callback again later)' },
  },
});

export function registerTrainerWebhook(app: Express, ctx: AppContext): void {
  app.post('/webhooks/trainer', countRefusals(ctx.metrics, 'trainer'), readBody({ limitBytes: 256 * 1024, types: ['application/json'] }), async (req, res) => {
    const trainer = ctx.config.trainer;
    if (!trainer) throw new HttpError(503, 'the remote trainer is not configured (TRAINER_URL, TRAINER_SECRET)');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifySignature(trainer.secret, req.get('x-assay-timestamp'), req.get('x-assay-signature'), body);
    if (!check.ok) throw new HttpError(401, `trainer callback refused: ${check.reason}`);
    const update = trainerCallbackSchema.parse(parseJsonBody(body, 'the callback body'));
    try {
      const outcome = await applyTrainerUpdate(ctx, update);
      ctx.metrics.webhook('trainer', outcome.status === 'duplicate' ? 'duplicate' : 'stored');
      res.json(outcome);
    } catch (e) {
      if (e instanceof UnknownTrainerJobError) throw new HttpError(404, e.message);
      if (e instanceof ArtifactRefusedError || e instanceof ModelRefusedError) throw new HttpError(422, e.message);
      // The artifact host did not answer (network, 5xx): the training goes on; send the callback again later.
      if (e instanceof TransientTrainerError) throw new HttpError(503, `${e.message}; retry the callback later`);
      throw e;
    }
  });

  app.get(/^\/artifacts\/((?:models|datasets|images)\/[0-9a-f]{64}(?:\.[a-z0-9]{1,10})?)$/, async (req, res) => {
    const artifactPath = (req.params as Record<string, string>)[0]!;
    assertArtifactPath(artifactPath);
    if (!verifyArtifactLink(ctx.secret, artifactPath, req.query.expires, req.query.sig)) throw new HttpError(403, 'invalid or expired artifact link');
    const stat = await ctx.artifacts.stat(artifactPath);
    if (!stat) throw new HttpError(404, 'artifact not found');
    res.setHeader('content-type', artifactPath.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    res.setHeader('content-length', String(stat.size));
    try {
      (await ctx.artifacts.get(artifactPath)).pipe(res);
    } catch (e) {
      if (e instanceof ArtifactNotFoundError) throw new HttpError(404, 'artifact not found');
      throw e;
    }
  });
}
