// What the promotion history is read from: model_activation_events (append-only, written by a
// trigger on every activation change) and the models' approval decisions.
import type { EntityManager } from 'typeorm';
import type { ModelTask } from '../domain/index.js';

export interface ActivationEventRow {
  ai_option_uid: string;
  model_id: string;
  active: boolean;
  actor: string | null;
  at: Date;
}

export interface HistoryModelRow {
  id: string;
  model_name: string;
  model_version: number;
  task: ModelTask;
  status: string;
  approved_by: string | null;
  approved_at: Date | null;
  decided_by: string | null;
  decided_at: Date | null;
}

export class PromotionHistoryRepository {
  constructor(private readonly db: EntityManager) {}

  /** A kit's activation events up to `at` for the given options, in the order they happened. */
  activationEvents(kitUuid: string, at: Date, optionUids: string[]): Promise<ActivationEventRow[]> {
    return this.db.query(
      `SELECT ai_option_uid, model_id, active, actor, at FROM model_activation_events
        WHERE test_type_id = $1 AND at <= $2 AND ai_option_uid = ANY($3::uuid[])
        ORDER BY at, id`,
      [kitUuid, at, optionUids],
    );
  }

  /** The models named, each with who approved it (its approve decision, if any). */
  async modelsWithApprovals(modelIds: string[]): Promise<HistoryModelRow[]> {
    if (modelIds.length === 0) return [];
    return this.db.query(
      `SELECT m.id, m.model_name, m.model_version, m.task, m.status, m.approved_by, m.approved_at, a.actor AS decided_by, a.created_at AS decided_at
         FROM models m
         LEFT JOIN approvals a ON a.model_id = m.id AND a.kind = 'decision' AND a.decision = 'approved'
        WHERE m.id = ANY($1::uuid[])`,
      [modelIds],
    );
  }
}
