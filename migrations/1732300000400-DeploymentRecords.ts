import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deploy/rollback bookkeeping:
 * - approvals.result: what a confirmed deploy/rollback did, so a repeated Slack click (same
 *   interaction key) answers with the first result instead of acting twice;
 * - model_activation_events: append-only history of every (kit, option) activation change,
 *   written by a trigger on model_test_types, because model_test_types keeps only the latest
 *   interval per (model, kit, option) and promotion history must answer "at any moment".
 */
export class DeploymentRecords1732300000400 implements MigrationInterface {
  name = 'DeploymentRecords1732300000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
ALTER TABLE approvals ADD COLUMN result jsonb;

CREATE TABLE model_activation_events (
  id bigserial PRIMARY KEY,
  test_type_id uuid NOT NULL REFERENCES test_types(id) ON DELETE CASCADE,
  ai_option_uid uuid NOT NULL REFERENCES ai_options(uid) ON DELETE CASCADE,
  model_id uuid NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  active boolean NOT NULL,
  actor text,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_activation_events_kit_idx ON model_activation_events (test_type_id, ai_option_uid, at, id);

CREATE FUNCTION model_activation_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.is_active THEN
      INSERT INTO model_activation_events (test_type_id, ai_option_uid, model_id, active, actor, at)
      VALUES (NEW.test_type_id, NEW.ai_option_uid, NEW.model_id, true, NEW.activated_by, COALESCE(NEW.activated_at, now()));
    END IF;
  ELSIF NEW.is_active IS DISTINCT FROM OLD.is_active THEN
    INSERT INTO model_activation_events (test_type_id, ai_option_uid, model_id, active, actor, at)
    VALUES (NEW.test_type_id, NEW.ai_option_uid, NEW.model_id, NEW.is_active,
            CASE WHEN NEW.is_active THEN NEW.activated_by ELSE NULL END,
            CASE WHEN NEW.is_active THEN COALESCE(NEW.activated_at, now()) ELSE COALESCE(NEW.deactivated_at, now()) END);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER model_test_types_activation_history AFTER INSERT OR UPDATE ON model_test_types
  FOR EACH ROW EXECUTE FUNCTION model_activation_record();

CREATE FUNCTION model_activation_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'model_activation_events is append-only' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER model_activation_events_no_change BEFORE UPDATE ON model_activation_events
  FOR EACH ROW EXECUTE FUNCTION model_activation_events_append_only();

-- Rows that were active before this migration start their history at their activation.
INSERT INTO model_activation_events (test_type_id, ai_option_uid, model_id, active, actor, at)
SELECT test_type_id, ai_option_uid, model_id, true, activated_by, COALESCE(activated_at, created_at)
  FROM model_test_types WHERE is_active;
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
DROP TRIGGER IF EXISTS model_test_types_activation_history ON model_test_types;
DROP TABLE IF EXISTS model_activation_events;
DROP FUNCTION IF EXISTS model_activation_record, model_activation_events_append_only;
ALTER TABLE approvals DROP COLUMN IF EXISTS result;
`);
  }
}
