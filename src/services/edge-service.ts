// Edge servers: registration (token shown once, stored as sha256), authentication, what each
// edge should run, signed download links, heartbeats driving deployment status, staleness.
import { isUuid } from '../domain/ids.js';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import { Deployment, EdgeServer, Model } from '../db/entities/index.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type DeploymentStatus, type ModelRuntime, type ModelTask } from '../domain/index.js';
import type { AssayEvents } from '../app/events.js';
import type { Notifier } from '../app/notifier.js';
import { writeAudit, type Actor } from './audit.js';
import { isUniqueViolation } from './db-errors.js';
import { transition } from './transitions.js';

export const edgeActor = (edge: Pick<EdgeServer, 'name'>): Actor => ({ type: 'edge', id: edge.name });

export const hashEdgeToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

const EDGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

// ---- registration -------------------------------------------------------------------------

/** Registers an edge server. The token is returned once and only its hash is kept. */
export async function addEdge(manager: EntityManager, name: string, actor: Actor): Promise<{ edge: EdgeServer; token: string }> {
  if (!EDGE_NAME.test(name)) throw new ValidationError('Edge names are 1-63 letters, digits, "_", "." or "-", starting with a letter or digit', 'name');
  const token = `assay_edge_${randomBytes(32).toString('base64url')}`;
  return manager.transaction(async (tx) => {
    let edge: EdgeServer;
    try {
      edge = await tx.save(EdgeServer, tx.create(EdgeServer, { name, tokenHash: hashEdgeToken(token), reportedModels: [] }));
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(`An edge server named ${name} already exists`);
      throw e;
    }
    await writeAudit(tx, actor, { action: 'edge.added', entityType: 'edge_server', entityId: edge.id, details: { name } });
    return { edge, token };
  });
}

export async function revokeEdge(manager: EntityManager, name: string, actor: Actor): Promise<EdgeServer> {
  return manager.transaction(async (tx) => {
    const edge = await tx.findOne(EdgeServer, { where: { name }, lock: { mode: 'pessimistic_write' } });
    if (!edge) throw new NotFoundError('Edge server', name);
    if (edge.revokedAt) return edge;
    edge.revokedAt = new Date();
    await tx.update(EdgeServer, { id: edge.id }, { revokedAt: edge.revokedAt });
    await writeAudit(tx, actor, { action: 'edge.revoked', entityType: 'edge_server', entityId: edge.id, details: { name } });
    return edge;
  });
}

export async function listEdges(manager: EntityManager): Promise<EdgeServer[]> {
  return manager.find(EdgeServer, { order: { name: 'ASC' } });
}

export type EdgeAuth = { ok: true; edge: EdgeServer } | { ok: false; reason: 'unknown' | 'revoked' };

/**
 * Looks the edge up by the token's hash (the lookup never compares secrets byte by byte),
 * then confirms the stored hash with a constant-time compare.
 */
export async function authenticateEdge(manager: EntityManager, token: string): Promise<EdgeAuth> {
  const hash = hashEdgeToken(token);
  const edge = await manager.findOne(EdgeServer, { where: { tokenHash: hash } });
  if (!edge || !timingSafeEqual(Buffer.from(edge.tokenHash, 'hex'), Buffer.from(hash, 'hex'))) return { ok: false, reason: 'unknown' };
  if (edge.revokedAt) return { ok: false, reason: 'revoked' };
  return { ok: true, edge };
}

// ---- assignments --------------------------------------------------------------------------

export interface EdgeAssignment {
  testTypeId: string;
  kitId: string;
  kitName: string;
  aiOptionUid: string;
  optionName: string;
  modelId: string;
  modelName: string;
  version: number;
  task: ModelTask;
  /** Older name of the task, kept for edges built before tasks existed. */
  kind: 'classifier' | 'detector';
  /** What the edge needs to run the model: input, class names in output order, pre/post-processing. */
  runtime: ModelRuntime | null;
  labels: string[];
  sha256: string | null;
  size: number | null;
  activatedAt: string | null;
  /** This edge's newest deployment of the model, if one was made for it. */
  deployment: { id: string; status: DeploymentStatus } | null;
}

/** The active model of every kit option of active kits (every edge serves every kit). */
export async function edgeAssignments(manager: EntityManager, edge: EdgeServer): Promise<EdgeAssignment[]> {
  const rows: Record<string, any>[] = await manager.query(
    `SELECT t.id AS test_type_id, t.kit_id, t.kit_name, o.uid AS ai_option_uid, o.name AS option_name,
            m.id AS model_id, m.model_name, m.model_version, m.task, m.runtime, m.labels, m.artifact_sha256, m.artifact_size,
            a.activated_at, d.id AS deployment_id, d.status AS deployment_status
       FROM model_test_types a
       JOIN models m ON m.id = a.model_id
       JOIN test_types t ON t.id = a.test_type_id AND t.status = 'active'
       JOIN ai_options o ON o.uid = a.ai_option_uid
       LEFT JOIN LATERAL (
         SELECT id, status FROM deployments WHERE model_id = m.id AND edge_server_id = $1 ORDER BY created_at DESC, id LIMIT 1
       ) d ON true
      WHERE a.is_active
      ORDER BY lower(t.kit_name), t.kit_id, o.name`,
    [edge.id],
  );
  return rows.map((r) => ({
    testTypeId: r.test_type_id,
    kitId: r.kit_id,
    kitName: r.kit_name,
    aiOptionUid: r.ai_option_uid,
    optionName: r.option_name,
    modelId: r.model_id,
    modelName: r.model_name,
    version: Number(r.model_version),
    task: r.task,
    kind: r.task === 'detect' ? 'detector' : 'classifier',
    runtime: r.runtime ?? null,
    labels: r.labels,
    sha256: r.artifact_sha256,
    size: r.artifact_size == null ? null : Number(r.artifact_size),
    activatedAt: r.activated_at ? new Date(r.activated_at).toISOString() : null,
    deployment: r.deployment_id ? { id: r.deployment_id, status: r.deployment_status } : null,
  }));
}

// ---- signed downloads ---------------------------------------------------------------------

const signature = (key: Buffer, modelId: string, edgeId: string, expires: number) =>
  createHmac('sha256', key).update(`download\n${modelId}\n${edgeId}\n${expires}`).digest('hex');

/** A download link for one model, usable by one edge, until `expires` (unix seconds). */
export function signDownload(key: Buffer, modelId: string, edgeId: string, expires: number): string {
  return signature(key, modelId, edgeId, expires);
}

export type DownloadCheck = { ok: true } | { ok: false; reason: string };

/** Expired, tampered and other edges' links all fail; the compare is constant-time. */
export function verifyDownload(key: Buffer, modelId: string, edgeId: string, expires: number, sig: string, now = Date.now()): DownloadCheck {
  const expected = Buffer.from(signature(key, modelId, edgeId, expires), 'hex');
  const given = /^[0-9a-f]{64}$/.test(sig) ? Buffer.from(sig, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'download link is invalid or was issued to another edge server' };
  }
  if (!Number.isFinite(expires) || expires * 1000 <= now) return { ok: false, reason: 'download link has expired' };
  return { ok: true };
}

export async function modelExists(manager: EntityManager, modelId: string): Promise<Model> {
  const model = isUuid(modelId) ? await manager.findOne(Model, { where: { id: modelId } }) : null;
  if (!model) throw new NotFoundError('Model', modelId);
  return model;
}

/** A model an edge may download: approved or deployed, with a stored artifact. */
export async function downloadableModel(manager: EntityManager, modelId: string): Promise<Model> {
  const model = await modelExists(manager, modelId);
  if (model.status !== 'approved' && model.status !== 'deployed') throw new ForbiddenError(`Model ${model.modelName} is ${model.status}: only approved models can be downloaded`);
  if (!model.s3ModelPath) throw new NotFoundError('Artifact of model', model.modelName);
  return model;
}

/** What the edge still has to act on (or retry), newest first. */
export async function openDeployments(manager: EntityManager, edge: EdgeServer): Promise<Deployment[]> {
  return manager.find(Deployment, {
    where: { edgeServerId: edge.id, status: In(['pending', 'downloading', 'installing', 'failed']) },
    order: { createdAt: 'DESC', id: 'ASC' },
    take: 200,
  });
}

// ---- heartbeats ---------------------------------------------------------------------------

export interface HeartbeatReport {
  /** What the edge runs now. */
  models: { modelId: string; version?: number; modelName?: string }[];
  deployments: { deploymentId: string; status: 'downloading' | 'installing' | 'completed' | 'failed'; progress?: number; error?: string }[];
}

export interface HeartbeatResult {
  changed: Deployment[];
  failed: Deployment[];
}

/**
 * Records a heartbeat in one transaction. A deployment of another edge → 403, an illegal
 * status change → 409; either way nothing of the heartbeat is written.
 */
export async function recordHeartbeat(dataSource: DataSource, edge: EdgeServer, report: HeartbeatReport): Promise<HeartbeatResult> {
  const actor = edgeActor(edge);
  return dataSource.transaction(async (tx) => {
    const ids = report.deployments.map((d) => d.deploymentId);
    const dupe = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dupe) throw new ValidationError(`Deployment ${dupe} is reported twice`, 'deployments');
    const found = ids.length ? await tx.find(Deployment, { where: { id: In(ids) } }) : [];
    for (const d of report.deployments) {
      const row = found.find((f) => f.id === d.deploymentId);
      if (!row) throw new NotFoundError('Deployment', d.deploymentId);
      if (row.edgeServerId !== edge.id) throw new ForbiddenError(`Deployment ${d.deploymentId} belongs to another edge server`);
    }
    const changed: Deployment[] = [];
    for (const d of report.deployments) {
      const row = found.find((f) => f.id === d.deploymentId)!;
      const progress = d.status === 'completed' ? 1 : d.progress ?? row.progress;
      if (row.status === d.status) {
        // Same state: only progress moves; no transition, no audit line per beat.
        await tx.update(Deployment, { id: row.id }, { progress, ...(d.error ? { error: d.error } : {}) });
        continue;
      }
      const patch: Partial<Deployment> = { progress };
      if (d.status === 'completed') patch.completedAt = new Date();
      if (d.status === 'failed') patch.error = d.error ?? 'the edge server reported a failure without details';
      changed.push(await transition(tx, 'deployment', row.id, d.status, actor, patch, d.error ? { error: d.error } : {}));
    }
    await tx.update(EdgeServer, { id: edge.id }, { lastHeartbeatAt: new Date(), reportedModels: report.models, staleNotifiedAt: null });
    return { changed, failed: changed.filter((c) => c.status === 'failed') };
  });
}

/** After the heartbeat committed: events for listeners, ops notices for failures. */
export async function announceHeartbeat(result: HeartbeatResult, edge: EdgeServer, events: AssayEvents, notifier: Notifier): Promise<void> {
  for (const d of result.changed) {
    events.emit('deployment.changed', { deploymentId: d.id, modelId: d.modelId, status: d.status, edge: edge.name, error: d.error ?? null });
  }
  for (const d of result.failed) {
    await notifier.notify({
      kind: 'deployment.failed',
      text: `Deployment ${d.id} of model ${d.modelId} failed on edge server ${edge.name}: ${d.error ?? 'no details'}`,
      entityType: 'deployment',
      entityId: d.id,
      details: { edge: edge.name, modelId: d.modelId, error: d.error, retryCount: d.retryCount },
    });
  }
}

// ---- staleness ----------------------------------------------------------------------------

/**
 * Edges silent for longer than `staleAfterMinutes` (never-seen ones count from registration)
 * are reported once per silence: a heartbeat clears the mark.
 */
export async function reportStaleEdges(dataSource: DataSource, staleAfterMinutes: number, notifier: Notifier, now = new Date()): Promise<EdgeServer[]> {
  const cutoff = new Date(now.getTime() - staleAfterMinutes * 60_000);
  const stale: EdgeServer[] = await dataSource.transaction(async (tx) => {
    const rows = await tx
      .createQueryBuilder(EdgeServer, 'e')
      .where('e.revoked_at IS NULL AND e.stale_notified_at IS NULL AND COALESCE(e.last_heartbeat_at, e.created_at) < :cutoff', { cutoff })
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .getMany();
    if (rows.length) await tx.update(EdgeServer, { id: In(rows.map((r) => r.id)), staleNotifiedAt: IsNull() }, { staleNotifiedAt: now });
    return rows;
  });
  for (const e of stale) {
    const since = e.lastHeartbeatAt ? `since ${e.lastHeartbeatAt.toISOString()}` : 'ever since it was added';
    await notifier.notify({
      kind: 'edge.stale',
      text: `Edge server ${e.name} has sent no heartbeat ${since} (more than ${staleAfterMinutes} min)`,
      entityType: 'edge_server',
      entityId: e.id,
      details: { name: e.name, lastHeartbeatAt: e.lastHeartbeatAt?.toISOString() ?? null, staleAfterMinutes },
    });
  }
  return stale;
}

/** An edge server as the HTTP adapter sees it (the authenticated caller). */
export type { EdgeServer } from '../db/entities/index.js';
