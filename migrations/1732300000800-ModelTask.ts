import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * models.task ('detect' | 'classify') replaces models.kind ('classifier' | 'detector'), and
 * models.runtime holds what an edge needs to run the version (src/domain/model-task.ts). Existing
 * classifiers get the descriptor their export implies (input 'input' NHWC, output 'probabilities');
 * a legacy 'detector' row has no output shape on record, so its runtime stays null.
 */
export class ModelTask1732300000800 implements MigrationInterface {
  name = 'ModelTask1732300000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
ALTER TABLE models ADD COLUMN task text;
UPDATE models SET task = CASE kind WHEN 'detector' THEN 'detect' ELSE 'classify' END;
ALTER TABLE models ALTER COLUMN task SET DEFAULT 'classify';
ALTER TABLE models ALTER COLUMN task SET NOT NULL;
ALTER TABLE models ADD CONSTRAINT models_task_check CHECK (task IN ('detect', 'classify'));
ALTER TABLE models DROP COLUMN kind;
ALTER TABLE models ADD COLUMN runtime jsonb;
UPDATE models SET runtime = jsonb_build_object(
  'task', 'classify',
  'format', 'onnx',
  'input', jsonb_build_object(
    'name', 'input',
    'shape', CASE WHEN jsonb_typeof(input_shape) = 'array' AND jsonb_array_length(input_shape) = 4 THEN input_shape ELSE 'null'::jsonb END,
    'dtype', 'float32', 'layout', 'NHWC', 'colour', 'RGB'),
  'inputSize', CASE WHEN jsonb_typeof(input_shape) = 'array' AND jsonb_array_length(input_shape) = 4
                    THEN jsonb_build_object('height', input_shape -> 1, 'width', input_shape -> 2) ELSE 'null'::jsonb END,
  'classNames', labels,
  'preprocess', jsonb_build_object('resize', 'crop the annotation box, stretch to the input size', 'scale', to_jsonb(1::float8 / 255)),
  'postprocess', jsonb_build_object(
    'output', jsonb_build_object('name', 'probabilities', 'shape', jsonb_build_array('N', jsonb_array_length(labels))),
    'kind', 'softmax probabilities, argmax is the label')
) WHERE task = 'classify';
ALTER TABLE models ADD CONSTRAINT models_runtime_task CHECK (runtime IS NULL OR (jsonb_typeof(runtime) = 'object' AND runtime ->> 'task' = task));
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
ALTER TABLE models ADD COLUMN kind text NOT NULL DEFAULT 'classifier' CHECK (kind IN ('classifier', 'detector'));
UPDATE models SET kind = CASE task WHEN 'detect' THEN 'detector' ELSE 'classifier' END;
ALTER TABLE models DROP CONSTRAINT models_runtime_task;
ALTER TABLE models DROP COLUMN runtime;
ALTER TABLE models DROP CONSTRAINT models_task_check;
ALTER TABLE models DROP COLUMN task;
`);
  }
}
