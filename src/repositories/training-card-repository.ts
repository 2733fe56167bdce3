// Training cards: everything a training's home message shows, read in one query (trainings,
// their lineage, model and decision), plus the other read models the Slack surfaces show.
import type { EntityManager } from 'typeorm';
import { comparableMetrics, type ModelTask } from '../domain/index.js';

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

const CARD_SQL = `SELECT t.uid, t.status, t.progress, t.current_epoch, t.total_epochs, t.dataset_name, t.requested_by, t.training_error, t.slack_channel, t.slack_ts, t.created_at,
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


export interface ActiveModelRow {
  kitId: string;
  kitName: string;
  optionName: string;
  optionTitle: string | null;
  modelName: string;
  modelId: string;
  activatedAt: Date | null;
}

export class TrainingCardRepository {
  constructor(private readonly db: EntityManager) {}

  /** The card row and the model's labels (a detector's class keys when its metrics lack per_class). */
  async byTraining(trainingUid: string): Promise<{ card: TrainingCard; modelLabels: string[] } | null> {
    return this.one(`${CARD_SQL} WHERE t.uid = $1`, trainingUid);
  }

  async byModel(modelId: string): Promise<{ card: TrainingCard; modelLabels: string[] } | null> {
    return this.one(`${CARD_SQL} WHERE m.id = $1`, modelId);
  }

  async recent(limit: number): Promise<TrainingCard[]> {
    const rows: Record<string, any>[] = await this.db.query(`${CARD_SQL} ORDER BY t.created_at DESC LIMIT $1`, [limit]);
    return rows.map(toCard);
  }

  /** The validation report of a training's dataset (null until validated). */
  async datasetReport(trainingUid: string): Promise<Record<string, unknown> | null> {
    const rows: { validation_report: Record<string, unknown> | null }[] = await this.db.query(
      `SELECT d.validation_report FROM model_trainings t JOIN datasets d ON d.id = t.dataset_id WHERE t.uid = $1`,
      [trainingUid],
    );
    return rows[0]?.validation_report ?? null;
  }

  /** The active model of every kit option, kits in name order. */
  async activeModelsPerKit(limit: number): Promise<ActiveModelRow[]> {
    const rows: Record<string, any>[] = await this.db.query(
      `SELECT k.kit_id, k.kit_name, o.name AS option_name, o.description AS option_title, m.model_name, m.id AS model_id, a.activated_at
         FROM model_test_types a JOIN test_types k ON k.id = a.test_type_id JOIN ai_options o ON o.uid = a.ai_option_uid JOIN models m ON m.id = a.model_id
        WHERE a.is_active ORDER BY lower(k.kit_name), o.name LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ kitId: r.kit_id, kitName: r.kit_name, optionName: r.option_name, optionTitle: r.option_title, modelName: r.model_name, modelId: r.model_id, activatedAt: r.activated_at ? new Date(r.activated_at) : null }));
  }

  private async one(sql: string, id: string): Promise<{ card: TrainingCard; modelLabels: string[] } | null> {
    const rows: Record<string, any>[] = await this.db.query(sql, [id]);
    const row = rows[0];
    return row ? { card: toCard(row), modelLabels: (row.model_labels ?? []) as string[] } : null;
  }
}
