// Keeps each training's home message current from domain events. Progress edits are coalesced
// per message (at most one chat.update every `minIntervalMs`, only the newest state is sent) and
// a 429 pushes the next edit back by its Retry-After instead of retrying in a loop.
import type { WebClient } from '@slack/web-api';
import type { AppContext } from '../app/context.js';
import type { AssayEventMap } from '../app/events.js';
import type { TrainingCard } from '../services/slack-delivery-service.js';
import { readArtifact } from '../storage/artifact-store.js';
import { uploadToThread } from './file-upload.js';
import { trainingMessage } from '../../views/training-message.js';
import { validationReportMessage } from '../../views/dataset-report.js';
import { rolledBackNote } from '../../views/rollback.js';
import { escapeMrkdwn } from '../../views/mrkdwn.js';

type Live = Partial<AssayEventMap['training.progress']>;

interface Pending {
  live: Live;
  timer: NodeJS.Timeout | null;
  lastSentAt: number;
  notBefore: number;
}

export class TrainingMessages {
  private readonly pending = new Map<string, Pending>();
  private stopped = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly client: WebClient,
    private readonly minIntervalMs = 3000,
  ) {}

  /** Posts the home message of a new training (channel, or the requester's DM) and remembers it. */
  async postHome(trainingUid: string, channel: string): Promise<void> {
    const card = await this.ctx.services.trainings.card(trainingUid);
    if (!card) return;
    const msg = trainingMessage(card);
    const r = await this.client.chat.postMessage({ channel, text: msg.text, blocks: msg.blocks, unfurl_links: false });
    if (r.channel && r.ts) await this.ctx.services.trainings.setHomeMessage(trainingUid, r.channel, r.ts);
  }

  /** Every progress event lands here; only the latest is sent, at the allowed pace. */
  progress(e: AssayEventMap['training.progress']): void {
    if (this.stopped) return;
    const p = this.pending.get(e.trainingUid) ?? { live: {}, timer: null, lastSentAt: 0, notBefore: 0 };
    p.live = e;
    this.pending.set(e.trainingUid, p);
    this.schedule(e.trainingUid, p);
  }

  private schedule(uid: string, p: Pending): void {
    if (p.timer) return;
    const wait = Math.max(0, p.lastSentAt + this.minIntervalMs - Date.now(), p.notBefore - Date.now());
    p.timer = setTimeout(() => {
      p.timer = null;
      void this.flush(uid, p);
    }, wait);
    p.timer.unref?.();
  }

  private async flush(uid: string, p: Pending): Promise<void> {
    const live = p.live;
    p.lastSentAt = Date.now();
    try {
      await this.refresh(uid, live);
    } catch (err) {
      const retryAfter = rateLimitedFor(err);
      if (retryAfter !== null) {
        p.notBefore = Date.now() + retryAfter * 1000;
        this.ctx.logger.warn({ trainingUid: uid, retryAfter }, 'chat.update rate-limited; next progress edit waits');
        if (!p.timer && !this.stopped) this.schedule(uid, p);
        return;
      }
      this.ctx.logger.warn({ err: (err as Error).message, trainingUid: uid }, 'could not update the training message');
    }
  }

  /** Re-renders the home message from the database (plus live numbers while training). */
  async refresh(trainingUid: string, live?: Live): Promise<TrainingCard | null> {
    const card = await this.ctx.services.trainings.card(trainingUid);
    if (!card?.slackChannel || !card.slackTs) return card;
    const view = live?.epoch !== undefined ? { ...card, currentEpoch: Math.max(card.currentEpoch, live.epoch), totalEpochs: live.totalEpochs ?? card.totalEpochs, status: card.status === 'queued' || card.status === 'validating' ? 'training' : card.status, live } : card;
    const msg = trainingMessage(view);
    await this.client.chat.update({ channel: card.slackChannel, ts: card.slackTs, text: msg.text, blocks: msg.blocks });
    return card;
  }

  /** Final states replace any queued progress edit. */
  async settle(trainingUid: string): Promise<void> {
    const p = this.pending.get(trainingUid);
    if (p?.timer) clearTimeout(p.timer);
    this.pending.delete(trainingUid);
    await this.refresh(trainingUid);
  }

  async refreshForModel(modelId: string): Promise<TrainingCard | null> {
    const card = await this.ctx.services.trainings.cardForModel(modelId);
    if (card) await this.settle(card.uid);
    return card;
  }

  async postInThread(trainingUid: string, message: { text: string; blocks: unknown[] }): Promise<void> {
    const card = await this.ctx.services.trainings.card(trainingUid);
    if (!card?.slackChannel || !card.slackTs) return;
    await this.client.chat.postMessage({ channel: card.slackChannel, thread_ts: card.slackTs, text: message.text, ...(message.blocks.length ? { blocks: message.blocks as never } : {}), unfurl_links: false });
  }

  /**
   * A detector's preview picture (test photos, true boxes green, predicted red) as a reply in its
   * training's thread, once per model: a redelivered event or a retried job does not post it twice.
   * False when there is no thread to post in or it was posted before.
   */
  async postDetectionPreview(modelId: string, png: Buffer): Promise<boolean> {
    const { trainings, deliveries } = this.ctx.services;
    const card = await trainings.cardForModel(modelId);
    if (!card?.model || !card.slackChannel || !card.slackTs) return false;
    const key = `detection-preview:${modelId}`;
    if (!(await deliveries.recordDelivery(key, 'detection_preview'))) return false;
    const name = `${card.model.modelName} v${card.model.modelVersion}`;
    await uploadToThread(this.client, {
      channel: card.slackChannel,
      threadTs: card.slackTs,
      bytes: png,
      filename: `${card.model.modelName.replace(/[^\w.-]+/g, '_').slice(0, 80)}-v${card.model.modelVersion}-test-photos.png`,
      title: `${name}: test photos`,
      comment: `:frame_with_picture: *${escapeMrkdwn(name)}* on test photos: true boxes in green, predicted boxes in red (class, score ≥ 0.25).`,
      altText: `Test photos with true boxes in green and ${name}'s predicted boxes in red`,
    }, { slackApiUrl: this.ctx.config.slack?.apiUrl }).catch(async (err: unknown) => {
      await deliveries.forgetDelivery(key); // not posted: a later attempt may
      throw err;
    });
    return true;
  }

  /** Subscribes to the domain events (web and worker roles alike). */
  listen(): void {
    const ev = this.ctx.events;
    ev.on('training.progress', (e) => this.progress(e));
    ev.on('dataset.validated', async (e) => {
      if (!e.trainingUid) return;
      await this.postInThread(e.trainingUid, validationReportMessage(e));
      await this.settle(e.trainingUid);
    });
    ev.on('training.finished', (e) => this.settle(e.trainingUid));
    ev.on('evaluation.completed', async (e) => {
      const card = await this.refreshForModel(e.modelId);
      // The reason (e.g. a detector whose ONNX layout does not fit) goes where the requester looks.
      if (card && e.status === 'failed') await this.postInThread(card.uid, { text: `:x: Evaluation of ${escapeMrkdwn(card.model?.modelName ?? 'the model')} failed: ${escapeMrkdwn(e.error ?? 'unknown error').slice(0, 2000)}`, blocks: [] });
      // A detector's evaluation stores its preview picture as an artifact (metrics.previewPath).
      const preview = e.status === 'completed' ? e.metrics?.previewPath : undefined;
      if (card && typeof preview === 'string') await this.postDetectionPreview(e.modelId, await readArtifact(this.ctx.artifacts, preview));
    });
    ev.on('model.decided', (e) => this.refreshForModel(e.modelId).then(() => undefined));
    ev.on('deployment.changed', async (e) => {
      if (!['completed', 'failed', 'rolled_back'].includes(e.status)) return;
      const card = await this.ctx.services.trainings.cardForModel(e.modelId);
      // The edge's name and its error come from outside (the edge's heartbeat): escaped.
      if (card) await this.postInThread(card.uid, { text: `Deployment to ${escapeMrkdwn(e.edge ?? 'edge')}: ${e.status}${e.error ? ` (${escapeMrkdwn(e.error)})` : ''}`, blocks: [] });
    });
    ev.on('model.rolled_back', async (e) => {
      const card = await this.refreshForModel(e.modelId);
      if (card) await this.postInThread(card.uid, rolledBackNote(e));
    });
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
  }
}

/** Seconds to wait when Slack answered 429, else null. */
export function rateLimitedFor(err: unknown): number | null {
  const e = err as { code?: string; retryAfter?: number };
  return e?.code === 'slack_webapi_rate_limited_error' ? Math.max(1, Number(e.retryAfter) || 1) : null;
}
