// Approve / reject a model: permission checked on the server, exactly one decision per model
// even under simultaneous clicks (unique index on approvals), refusals kept in audit_log.
import type { DataSource, EntityManager } from 'typeorm';
import type { AssayEvents } from '../app/events.js';
import { Approval, Model, ModelTraining, TestType } from '../db/entities/index.js';
import { checkLength, comparableMetrics, ConflictError, NotFoundError, ValidationError, type ApproverAction, type ModelTask } from '../domain/index.js';
import { requireAccess } from './access-gate.js';
import { slackUser, writeAudit } from './audit.js';
import { isUniqueViolation } from './db-errors.js';
import { transition } from './transitions.js';

export interface DecisionInput {
  modelId: string;
  decision: 'approved' | 'rejected';
  actor: string;
  approvers: ReadonlySet<string>;
  reason?: string | null;
  interactionKey: string;
  slackChannel?: string | null;
  slackTs?: string | null;
}

export interface Decided {
  model: Model;
  approval: Approval;
}

/** The earlier decision, in words, for whoever clicked second. */
export class AlreadyDecidedError extends ConflictError {
  constructor(readonly approval: Approval) {
    super(`Already ${approval.decision} by <@${approval.actor}> at ${approval.createdAt.toISOString().replace('T', ' ').slice(0, 16)} UTC`);
  }
}

async function requesterOf(manager: EntityManager, model: Model): Promise<string | null> {
  if (!model.trainingUid) return null;
  return (await manager.findOne(ModelTraining, { where: { uid: model.trainingUid } }))?.requestedBy ?? null;
}

/** The access gate for an action on a model (deploy, reject... as a pre-check before a modal opens). */
export async function authorize(dataSource: DataSource, input: { actor: string; action: ApproverAction; approvers: ReadonlySet<string>; modelId: string }): Promise<void> {
  const model = await dataSource.manager.findOne(Model, { where: { id: input.modelId } });
  if (!model) throw new NotFoundError('Model', input.modelId);
  await requireAccess(dataSource.manager, {
    actor: slackUser(input.actor), action: input.action, approvers: input.approvers,
    entity: { type: 'model', id: model.id }, requestedBy: await requesterOf(dataSource.manager, model),
  });
}

/** A click that lost to an earlier decision is kept in audit_log (who tried, who had decided). */
async function tooLate(dataSource: DataSource, input: DecisionInput, winner: Approval): Promise<AlreadyDecidedError> {
  await writeAudit(dataSource.manager, slackUser(input.actor), {
    action: 'model.decision_refused',
    entityType: 'model',
    entityId: input.modelId,
    details: { attempted: input.decision === 'approved' ? 'approve' : 'reject', decision: winner.decision, decidedBy: winner.actor, approvalId: winner.id },
  });
  return new AlreadyDecidedError(winner);
}

export async function findDecision(manager: EntityManager, modelId: string): Promise<Approval | null> {
  return manager.findOne(Approval, { where: { modelId, kind: 'decision' } });
}

export async function decideModel(dataSource: DataSource, input: DecisionInput, events?: AssayEvents): Promise<Decided> {
  const reason = input.reason?.trim() || null;
  if (input.decision === 'rejected' && !reason) throw new ValidationError('Say why the model is rejected', 'reason');
  if (reason) checkLength(reason, 'reason', 'reason', 'A reason');
  const model = await dataSource.manager.findOne(Model, { where: { id: input.modelId } });
  if (!model) throw new NotFoundError('Model', input.modelId);
  // Permission first: someone who may not decide learns only that, not who decided (or when).
  await requireAccess(dataSource.manager, {
    actor: slackUser(input.actor), action: input.decision === 'approved' ? 'approve' : 'reject', approvers: input.approvers,
    entity: { type: 'model', id: model.id }, requestedBy: await requesterOf(dataSource.manager, model),
  });
  const earlier = await findDecision(dataSource.manager, model.id);
  if (earlier) throw await tooLate(dataSource, input, earlier);
  const actor = slackUser(input.actor);
  let decided: Decided;
  try {
    decided = await dataSource.transaction(async (tx) => {
      // Insert first: the unique index settles a race before the row lock would.
      const approval = await tx.save(
        Approval,
        tx.create(Approval, { modelId: model.id, kind: 'decision', decision: input.decision, actor: input.actor, comment: reason, slackChannel: input.slackChannel ?? null, slackTs: input.slackTs ?? null, interactionKey: input.interactionKey }),
      );
      const now = new Date();
      const patch: Partial<Model> = input.decision === 'approved' ? { approvedBy: input.actor, approvedAt: now } : { rejectionReason: reason };
      const updated = await transition(tx, 'model', model.id, input.decision, actor, patch, { approvalId: approval.id });
      return { model: updated, approval };
    });
  } catch (e) {
    if (isUniqueViolation(e)) {
      const winner = await findDecision(dataSource.manager, model.id);
      if (winner) throw await tooLate(dataSource, input, winner);
    }
    throw e;
  }
  events?.emit('model.decided', { modelId: model.id, decision: input.decision, actor: input.actor, reason });
  return decided;
}

export interface ModelSummary {
  id: string;
  modelName: string;
  modelVersion: number;
  task: ModelTask;
  status: string;
  metrics: Record<string, unknown> | null;
  createdAt: Date;
  requestedBy: string | null;
  trainingUid: string | null;
  approvedBy: string | null;
  approvedAt: Date | null;
  rejectionReason: string | null;
}

const summarySql = `SELECT m.id, m.model_name, m.model_version, m.task, m.status, m.metrics, m.created_at, m.training_uid, m.approved_by, m.approved_at, m.rejection_reason, t.requested_by
  FROM models m LEFT JOIN model_trainings t ON t.uid = m.training_uid`;
type SummaryRow = { id: string; model_name: string; model_version: number; task: ModelTask; status: string; metrics: Record<string, unknown> | null; created_at: Date; training_uid: string | null; approved_by: string | null; approved_at: Date | null; rejection_reason: string | null; requested_by: string | null };
const toSummary = (r: SummaryRow): ModelSummary => ({
  id: r.id,
  modelName: r.model_name,
  modelVersion: Number(r.model_version),
  task: r.task,
  status: r.status,
  metrics: comparableMetrics(r.metrics),
  createdAt: new Date(r.created_at),
  trainingUid: r.training_uid,
  requestedBy: r.requested_by,
  approvedBy: r.approved_by,
  approvedAt: r.approved_at ? new Date(r.approved_at) : null,
  rejectionReason: r.rejection_reason,
});

/** A model by id or by name (what people type in /assay status). */
export async function findModelSummary(manager: EntityManager, idOrName: string): Promise<ModelSummary | null> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrName);
  const rows: SummaryRow[] = await manager.query(`${summarySql} WHERE ${uuid ? 'm.id = $1::uuid' : 'm.model_name = $1'}`, [idOrName]);
  return rows[0] ? toSummary(rows[0]) : null;
}

/** Models waiting for a decision that `viewer` may take (not their own requests). */
export async function approvalsWaitingFor(manager: EntityManager, viewer: string, limit = 20): Promise<ModelSummary[]> {
  const rows: SummaryRow[] = await manager.query(`${summarySql} WHERE m.status = 'pending_approval' AND (t.requested_by IS NULL OR t.requested_by <> $1) ORDER BY m.created_at DESC LIMIT $2`, [viewer, limit]);
  return rows.map(toSummary);
}

/** Models, newest first, optionally only those mapped to one kit. */
export async function listModels(manager: EntityManager, kit?: TestType | null, limit = 20): Promise<ModelSummary[]> {
  const rows: SummaryRow[] = kit
    ? await manager.query(`${summarySql} WHERE m.id IN (SELECT model_id FROM model_test_types WHERE test_type_id = $1) ORDER BY m.created_at DESC LIMIT $2`, [kit.id, limit])
    : await manager.query(`${summarySql} ORDER BY m.created_at DESC LIMIT $1`, [limit]);
  return rows.map(toSummary);
}
