// Trainings (model_trainings). More of its SQL moves here from the training services in a later step.
import type { EntityManager } from 'typeorm';
import { ModelTraining } from '../db/entities/index.js';

export class TrainingRepository {
  constructor(private readonly db: EntityManager) {}

  async countByStatus(): Promise<{ status: string; n: number }[]> {
    const rows: { status: string; n: string }[] = await this.db.query(`SELECT status, count(*)::text AS n FROM model_trainings GROUP BY status`);
    return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
  }

  /** Where the training's home message lives (channel + ts). */
  async setHomeMessage(trainingUid: string, channel: string, ts: string): Promise<void> {
    await this.db.update(ModelTraining, { uid: trainingUid }, { slackChannel: channel, slackTs: ts });
  }
}
