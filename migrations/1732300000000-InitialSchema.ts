import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The complete data model of DESIGN.md. Rules that must hold under concurrency live here,
 * in the database: uniqueness, one active model per kit option, one decision per model,
 * immutable hyperparameters, append-only audit log.
 */
export class InitialSchema1732300000000 implements MigrationInterface {
  name = 'InitialSchema1732300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE TABLE ai_options (
  uid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_]*$' AND length(name) <= 100),
  label_name text UNIQUE CHECK (label_name IS NULL OR (length(label_name) BETWEEN 1 AND 100 AND label_name = btrim(label_name))),
  selectable boolean NOT NULL DEFAULT true,
  description text,
  example_image_url text,
  active boolean NOT NULL DEFAULT true,
  salesforce_id text UNIQUE,
  sf_last_modified_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE test_types (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kit_id text NOT NULL UNIQUE CHECK (length(kit_id) BETWEEN 1 AND 100),
  kit_name text NOT NULL CHECK (length(kit_name) BETWEEN 1 AND 255),
  salesforce_id text UNIQUE,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  sf_last_modified_at timestamptz,
  last_synced_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX test_types_kit_name_idx ON test_types (lower(kit_name));

CREATE TABLE test_type_ai_options (
  uid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  test_type_id uuid NOT NULL REFERENCES test_types(id) ON DELETE CASCADE,
  ai_option_uid uuid NOT NULL REFERENCES ai_options(uid) ON DELETE RESTRICT,
  selectable boolean NOT NULL DEFAULT true,
  salesforce_id text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT test_type_ai_options_pair_uq UNIQUE (test_type_id, ai_option_uid)
);
CREATE INDEX test_type_ai_options_option_idx ON test_type_ai_options (ai_option_uid);

CREATE TABLE training_lineages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  lineage_key text NOT NULL UNIQUE CHECK (lineage_key ~ '^[0-9a-f]{64}$'),
  training_id text NOT NULL UNIQUE CHECK (training_id ~ '^[a-z0-9]{4,32}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  option_uids uuid[] NOT NULL CHECK (cardinality(option_uids) > 0),
  last_model_version integer NOT NULL DEFAULT 0 CHECK (last_model_version >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hyperparameters (
  uid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  fingerprint text NOT NULL UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
  params jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION hyperparameters_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'hyperparameters are immutable (uid %)', OLD.uid USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER hyperparameters_no_update BEFORE UPDATE ON hyperparameters
  FOR EACH ROW EXECUTE FUNCTION hyperparameters_immutable();

CREATE TABLE datasets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,99}$'),
  lineage_id uuid REFERENCES training_lineages(id) ON DELETE RESTRICT,
  source text NOT NULL CHECK (source IN ('upload', 'url')),
  source_uri text NOT NULL,
  storage_path text,
  sha256 text CHECK (sha256 IS NULL OR sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes bigint CHECK (size_bytes IS NULL OR size_bytes >= 0),
  format text NOT NULL DEFAULT 'coco' CHECK (format IN ('coco')),
  split_counts jsonb NOT NULL DEFAULT '{}',
  label_counts jsonb NOT NULL DEFAULT '{}',
  validation_report jsonb,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'validating', 'valid', 'invalid')),
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT datasets_valid_has_snapshot CHECK (status <> 'valid' OR (storage_path IS NOT NULL AND sha256 IS NOT NULL))
);

CREATE TABLE model_trainings (
  uid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  lineage_id uuid NOT NULL REFERENCES training_lineages(id) ON DELETE RESTRICT,
  dataset_id uuid REFERENCES datasets(id) ON DELETE RESTRICT,
  dataset_name text NOT NULL,
  model_id uuid,
  base_model_id uuid,
  hyperparameters_uid uuid NOT NULL REFERENCES hyperparameters(uid) ON DELETE RESTRICT,
  test_type_ids uuid[] NOT NULL DEFAULT '{}',
  mode text NOT NULL CHECK (mode IN ('new', 'new_version', 'retrain')),
  trainer text NOT NULL DEFAULT 'tfjs' CHECK (trainer IN ('tfjs', 'remote')),
  remote_job_id text UNIQUE,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'validating', 'training', 'trained', 'failed', 'cancelled')),
  progress real NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  current_epoch integer NOT NULL DEFAULT 0 CHECK (current_epoch >= 0),
  total_epochs integer NOT NULL CHECK (total_epochs > 0),
  metrics jsonb NOT NULL DEFAULT '[]',
  training_start_time timestamptz,
  training_end_time timestamptz,
  training_duration integer CHECK (training_duration IS NULL OR training_duration >= 0),
  training_logs text NOT NULL DEFAULT '',
  training_error text,
  requested_by text NOT NULL,
  slack_channel text,
  slack_ts text,
  cancel_requested boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT model_trainings_version_needs_base CHECK (mode <> 'new_version' OR base_model_id IS NOT NULL),
  CONSTRAINT model_trainings_trained_has_model CHECK (status <> 'trained' OR model_id IS NOT NULL)
);
CREATE INDEX model_trainings_status_idx ON model_trainings (status);
CREATE INDEX model_trainings_lineage_idx ON model_trainings (lineage_id, created_at DESC);

CREATE TABLE models (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  lineage_id uuid NOT NULL REFERENCES training_lineages(id) ON DELETE RESTRICT,
  training_uid uuid UNIQUE REFERENCES model_trainings(uid) ON DELETE RESTRICT,
  model_version integer NOT NULL CHECK (model_version > 0),
  model_name text NOT NULL UNIQUE,
  kind text NOT NULL DEFAULT 'classifier' CHECK (kind IN ('classifier', 'detector')),
  labels jsonb NOT NULL CHECK (jsonb_typeof(labels) = 'array' AND jsonb_array_length(labels) > 0),
  input_shape jsonb,
  s3_model_path text,
  beam_model_path text,
  artifact_sha256 text CHECK (artifact_sha256 IS NULL OR artifact_sha256 ~ '^[0-9a-f]{64}$'),
  artifact_size bigint CHECK (artifact_size IS NULL OR artifact_size > 0),
  hyperparameters_uid uuid REFERENCES hyperparameters(uid) ON DELETE RESTRICT,
  base_model_id uuid REFERENCES models(id) ON DELETE RESTRICT,
  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'evaluating', 'pending_approval', 'approved', 'rejected', 'deployed', 'deprecated')),
  metrics jsonb,
  approved_by text,
  approved_at timestamptz,
  rejection_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT models_lineage_version_uq UNIQUE (lineage_id, model_version),
  CONSTRAINT models_approved_has_approver CHECK (status NOT IN ('approved', 'deployed') OR (approved_by IS NOT NULL AND approved_at IS NOT NULL)),
  CONSTRAINT models_rejected_has_reason CHECK (status <> 'rejected' OR rejection_reason IS NOT NULL)
);
ALTER TABLE model_trainings ADD CONSTRAINT model_trainings_model_fk FOREIGN KEY (model_id) REFERENCES models(id) ON DELETE RESTRICT;
ALTER TABLE model_trainings ADD CONSTRAINT model_trainings_base_model_fk FOREIGN KEY (base_model_id) REFERENCES models(id) ON DELETE RESTRICT;

CREATE TABLE evaluations (
  uid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  model_id uuid NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  dataset_id uuid REFERENCES datasets(id) ON DELETE RESTRICT,
  split text NOT NULL DEFAULT 'test' CHECK (split IN ('train', 'val', 'test')),
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  evaluation_start_time timestamptz,
  evaluation_end_time timestamptz,
  evaluation_duration integer CHECK (evaluation_duration IS NULL OR evaluation_duration >= 0),
  metrics jsonb,
  evaluation_logs text NOT NULL DEFAULT '',
  evaluation_error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evaluations_model_idx ON evaluations (model_id);

CREATE TABLE model_test_types (
  uid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  model_id uuid NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  test_type_id uuid NOT NULL REFERENCES test_types(id) ON DELETE CASCADE,
  ai_option_uid uuid NOT NULL REFERENCES ai_options(uid) ON DELETE RESTRICT,
  is_active boolean NOT NULL DEFAULT false,
  previous_model_id uuid REFERENCES models(id) ON DELETE SET NULL,
  activated_at timestamptz,
  activated_by text,
  deactivated_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT model_test_types_uq UNIQUE (model_id, test_type_id, ai_option_uid)
);
-- At most one active model per (kit, option).
CREATE UNIQUE INDEX model_test_types_one_active ON model_test_types (test_type_id, ai_option_uid) WHERE is_active;

CREATE TABLE edge_servers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
  token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  last_heartbeat_at timestamptz,
  reported_models jsonb NOT NULL DEFAULT '[]',
  stale_notified_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deployments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  model_id uuid NOT NULL REFERENCES models(id) ON DELETE RESTRICT,
  previous_model_id uuid REFERENCES models(id) ON DELETE RESTRICT,
  target text NOT NULL,
  edge_server_id uuid REFERENCES edge_servers(id) ON DELETE CASCADE,
  scope jsonb NOT NULL DEFAULT '[]',
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'downloading', 'installing', 'completed', 'failed', 'rolled_back')),
  progress real NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  requested_by text NOT NULL,
  retry_count integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
  error text,
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deployments_model_idx ON deployments (model_id);
CREATE INDEX deployments_edge_idx ON deployments (edge_server_id, status);

CREATE TABLE approvals (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  model_id uuid NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('decision', 'deploy', 'rollback')),
  decision text NOT NULL CHECK (decision IN ('approved', 'rejected', 'confirmed')),
  actor text NOT NULL,
  comment text,
  slack_channel text,
  slack_ts text,
  interaction_key text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT approvals_decision_kind CHECK ((kind = 'decision') = (decision IN ('approved', 'rejected')))
);
-- One approve/reject decision per model, even under simultaneous clicks.
CREATE UNIQUE INDEX approvals_one_decision ON approvals (model_id) WHERE kind = 'decision';

CREATE TABLE salesforce_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_key text NOT NULL UNIQUE,
  source text NOT NULL CHECK (source IN ('cdc', 'outbound', 'reconcile', 'manual')),
  entity_name text,
  change_type text,
  record_ids text[] NOT NULL DEFAULT '{}',
  commit_timestamp timestamptz,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'applied', 'ignored', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  error text,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);
CREATE INDEX salesforce_events_status_idx ON salesforce_events (status, received_at);

CREATE TABLE wizard_sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id text NOT NULL,
  team_id text,
  channel_id text,
  step text NOT NULL DEFAULT 'kits' CHECK (step IN ('kits', 'options', 'labels', 'dataset', 'done')),
  state jsonb NOT NULL DEFAULT '{}',
  view_id text,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'submitted', 'expired', 'cancelled')),
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wizard_sessions_expiry_idx ON wizard_sessions (expires_at) WHERE status = 'open';

-- Slack redelivers events and interactions; a key seen once is never acted on twice.
CREATE TABLE slack_deliveries (
  delivery_key text PRIMARY KEY,
  kind text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor_type text NOT NULL CHECK (actor_type IN ('slack_user', 'salesforce', 'edge', 'system', 'cli', 'trainer')),
  actor_id text,
  action text NOT NULL,
  entity_type text,
  entity_id text,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
DROP TABLE IF EXISTS audit_log, slack_deliveries, wizard_sessions, salesforce_events, approvals, deployments,
  edge_servers, model_test_types, evaluations, models, model_trainings, datasets, hyperparameters,
  training_lineages, test_type_ai_options, test_types, ai_options CASCADE;
DROP FUNCTION IF EXISTS audit_log_append_only, hyperparameters_immutable;
`);
  }
}
