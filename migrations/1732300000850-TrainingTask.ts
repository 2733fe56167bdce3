import type { MigrationInterface, QueryRunner } from 'typeorm';

/** model_trainings.task: what the training produces ('detect' | 'classify'); earlier ones trained classifiers. */
export class TrainingTask1732300000850 implements MigrationInterface {
  name = 'TrainingTask1732300000850';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_trainings ADD COLUMN task text NOT NULL DEFAULT 'classify' CONSTRAINT model_trainings_task_check CHECK (task IN ('detect', 'classify'));`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_trainings DROP COLUMN task;`);
  }
}
