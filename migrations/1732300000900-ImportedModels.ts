import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Imported models ("bring your own model"): a detector trained elsewhere enters through a
 * model_trainings row with trainer 'import', so its dataset, kits, requester and Slack thread are
 * recorded like a trained one's and it goes through the same evaluation and approval. Such a
 * row has no Assay hyperparameters (they were chosen by whoever trained it).
 */
export class ImportedModels1732300000900 implements MigrationInterface {
  name = 'ImportedModels1732300000900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
ALTER TABLE model_trainings DROP CONSTRAINT model_trainings_trainer_check;
ALTER TABLE model_trainings ADD CONSTRAINT model_trainings_trainer_check CHECK (trainer IN ('tfjs', 'remote', 'import'));
ALTER TABLE model_trainings ALTER COLUMN hyperparameters_uid DROP NOT NULL;
ALTER TABLE model_trainings ADD CONSTRAINT model_trainings_hyperparameters_unless_import CHECK (trainer = 'import' OR hyperparameters_uid IS NOT NULL);
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
DELETE FROM model_trainings WHERE trainer = 'import';
ALTER TABLE model_trainings DROP CONSTRAINT model_trainings_hyperparameters_unless_import;
ALTER TABLE model_trainings ALTER COLUMN hyperparameters_uid SET NOT NULL;
ALTER TABLE model_trainings DROP CONSTRAINT model_trainings_trainer_check;
ALTER TABLE model_trainings ADD CONSTRAINT model_trainings_trainer_check CHECK (trainer IN ('tfjs', 'remote'));
`);
  }
}
