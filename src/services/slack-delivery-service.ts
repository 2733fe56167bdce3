// Slack redelivers events (up to 3 retries) and a double click sends two interactions: the
// first time a key is recorded it is acted on, every later time it is not.
import { isUuid } from '../domain/ids.js';
import type { EntityManager } from 'typeorm';
import { LessThan } from 'typeorm';
import { ModelTraining, SlackDelivery } from '../db/entities/index.js';
import { comparableMetrics, type ModelTask } from '../domain/index.js';
import { returnedRows } from '../db/returned-rows.js';

/** True the first time `key` is seen (this delivery should act), false for a redelivery. */
export async function recordDelivery(manager: EntityManager, key: string, kind: string): Promise<boolean> {
  const result = await manager.query(`INSERT INTO slack_deliveries (delivery_key, kind) VALUES ($1, $2) ON CONFLICT (delivery_key) DO NOTHING RETURNING delivery_key`, [key.slice(0, 500), kind]);
  return returnedRows(result).length > 0;
}

/** Lets a later delivery act again (the first one's action failed half-way). */
export async function forgetDelivery(manager: EntityManager, key: string): Promise<void> {
  await manager.delete(SlackDelivery, { deliveryKey: key.slice(0, 500) });
}

export async function forgetDeliveriesBefore(manager: EntityManager, before: Date): Promise<number> {
  return (await manager.delete(SlackDelivery, { receivedAt: LessThan(before) })).affected ?? 0;
}

/** Where a training's home message lives (channel + ts), once posted. */
export async function setTrainingHomeMessage(manager: EntityManager, trainingUid: string, channel: string, ts: string): Promise<void> {
  await manager.update(ModelTraining, { uid: trainingUid }, { slackChannel: channel, slackTs: ts });
}

/** Everything a training's home message shows. */
export interface TrainingCard {
  uid: string;
  status: string;
  progress: number;
  currentEpoch: number;
  totalEpochs: number;
  datasetName: string;
  requestedBy: string;
  error: string | null;
  slackChannel: string | null;
  slackTs: string | null;
  lineageName: string;
  trainingId: string;
  createdAt: Date;
  model: { id: string; modelName: string; modelVersion: number; task: ModelTask; status: string; metrics: Record<string, unknown> | null; approvedBy: string | null; approvedAt: Date | null; rejectionReason: string | null;
    /** A detector's class keys → the AI options' Salesforce names (detectors only). */
    classTitles?: Record<string, string | null> } | null;
  decision: { decision: string; actor: string; at: Date; comment: string | null } | null;
}

const cardSql = `SELECT t.uid, t.status, t.progress, t.current_epoch, t.total_epochs, t.dataset_name, t.requested_by, t.training_error, t.slack_channel, t.slack_ts, t.created_at,
    l.name AS lineage_name, l.training_id,
    m.id AS model_id, m.labels AS model_labels, m.model_name, m.model_version, m.task AS model_task, m.status AS model_status, m.metrics, m.approved_by, m.approved_at, m.rejection_reason,
    a.decision, a.actor AS decided_by, a.created_at AS decided_at, a.comment AS decision_comment
  FROM model_trainings t
  JOIN training_lineages l ON l.id = t.lineage_id
  LEFT JOIN models m ON m.id = t.model_id OR (t.model_id IS NULL AND m.training_uid = t.uid)
  LEFT JOIN approvals a ON a.model_id = m.id AND a.kind = 'decision'`;

function toCard(r: Record<string, any>): TrainingCard {
  return {
    uid: r.uid,
    status: r.status,
    progress: Number(r.progress),
    currentEpoch: Number(r.current_epoch),
    totalEpochs: Number(r.total_epochs),
    datasetName: r.dataset_name,
    requestedBy: r.requested_by,
    error: r.training_error,
    slackChannel: r.slack_channel,
    slackTs: r.slack_ts,
    lineageName: r.lineage_name,
    trainingId: r.training_id,
    createdAt: new Date(r.created_at),
    model: r.model_id
      ? { id: r.model_id, modelName: r.model_name, modelVersion: Number(r.model_version), task: r.model_task, status: r.model_status, metrics: comparableMetrics(r.metrics), approvedBy: r.approved_by, approvedAt: r.approved_at ? new Date(r.approved_at) : null, rejectionReason: r.rejection_reason }
      : null,
    decision: r.decision ? { decision: r.decision, actor: r.decided_by, at: new Date(r.decided_at), comment: r.decision_comment } : null,
  };
}


/** A class key is an option's label (label_name, else name); its title is the option's Salesforce name. */
export async function classTitles(manager: EntityManager, labels: string[]): Promise<Record<string, string | null>> {
  if (labels.length === 0) return {};
  const rows: { label: string; title: string | null }[] = await manager.query(
    `SELECT DISTINCT ON (COALESCE(label_name, name)) COALESCE(label_name, name) AS label, description AS title
       FROM ai_options WHERE COALESCE(label_name, name) = ANY($1::text[]) ORDER BY COALESCE(label_name, name), active DESC, (description IS NULL), name`,
    [labels],
  );
  return Object.fromEntries(rows.map((r) => [r.label, r.title]));
}

async function cardOf(manager: EntityManager, row: Record<string, any> | undefined): Promise<TrainingCard | null> {
  if (!row) return null;
  const card = toCard(row);
  if (card.model && card.model.metrics?.task === 'detect') {
    const names = Object.keys((card.model.metrics.per_class ?? {}) as Record<string, unknown>);
    card.model.classTitles = await classTitles(manager, names.length ? names : ((row.model_labels ?? []) as string[]));
  }
  return card;
}

export async function trainingCard(manager: EntityManager, trainingUid: string): Promise<TrainingCard | null> {
  if (!isUuid(trainingUid)) return null;
  const rows = await manager.query(`${cardSql} WHERE t.uid = $1`, [trainingUid]);
  return cardOf(manager, rows[0]);
}

/** The validation report of a training's dataset (null until validated). */
export async function datasetReportForTraining(manager: EntityManager, trainingUid: string): Promise<Record<string, unknown> | null> {
  if (!isUuid(trainingUid)) return null;
  const rows: { validation_report: Record<string, unknown> | null }[] = await manager.query(
    `SELECT d.validation_report FROM model_trainings t JOIN datasets d ON d.id = t.dataset_id WHERE t.uid = $1`,
    [trainingUid],
  );
  return rows[0]?.validation_report ?? null;
}

export async function trainingCardForModel(manager: EntityManager, modelId: string): Promise<TrainingCard | null> {
  if (!isUuid(modelId)) return null;
  const rows = await manager.query(`${cardSql} WHERE m.id = $1`, [modelId]);
  return cardOf(manager, rows[0]);
}

export async function recentTrainings(manager: EntityManager, limit = 10): Promise<TrainingCard[]> {
  const rows = await manager.query(`${cardSql} ORDER BY t.created_at DESC LIMIT $1`, [limit]);
  return rows.map(toCard);
}

export interface ActiveModelRow {
  kitId: string;
  kitName: string;
  optionName: string;
  optionTitle: string | null;
  modelName: string;
  modelId: string;
  activatedAt: Date | null;
}

/** The active model of every kit option (App Home), kits in name order. */
export async function activeModelsPerKit(manager: EntityManager, limit = 60): Promise<ActiveModelRow[]> {
  const rows: Record<string, any>[] = await manager.query(
    `SELECT k.kit_id, k.kit_name, o.name AS option_name, o.description AS option_title, m.model_name, m.id AS model_id, a.activated_at
       FROM model_test_types a JOIN test_types k ON k.id = a.test_type_id JOIN ai_options o ON o.uid = a.ai_option_uid JOIN models m ON m.id = a.model_id
      WHERE a.is_active ORDER BY lower(k.kit_name), o.name LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ kitId: r.kit_id, kitName: r.kit_name, optionName: r.option_name, optionTitle: r.option_title, modelName: r.model_name, modelId: r.model_id, activatedAt: r.activated_at ? new Date(r.activated_at) : null }));
}
