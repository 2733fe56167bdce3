// Every table and constraint of the data model, through TypeORM against a real database
// built by the real migrations (embedded PGlite, or PostgreSQL when DATABASE_URL is set).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueryFailedError } from 'typeorm';
import {
  AiOption, Approval, AuditLogEntry, Dataset, Deployment, EdgeServer, Evaluation, Hyperparameters, Model,
  ModelTestType, ModelTraining, SalesforceEvent, SlackDelivery, TestType, TestTypeAiOption, WizardSession,
} from '../../src/db/entities/index.js';
import { migrate } from '../../src/db/database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeModel, seeded } from '../helpers/factories.js';
import { getOrCreateHyperparameters } from '../../src/services/hyperparameter-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { classifyRuntime, detectRuntime } from '../../src/domain/index.js';
import { systemActor } from '../../src/services/audit.js';

let db: TestDatabase;
const m = () => db.dataSource.manager;
const violates = (code: string) => (e: unknown) => e instanceof QueryFailedError && (e.driverError as { code?: string }).code === code;
async function expectCode(p: Promise<unknown>, code: string) {
  const err = await p.then(() => null, (e) => e);
  expect(err).not.toBeNull();
  expect(violates(code)(err)).toBe(true);
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db.close());

describe('schema', () => {
  it('creates every table of the design', async () => {
    const rows: { table_name: string }[] = await m().query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    const names = rows.map((r) => r.table_name);
    for (const t of ['ai_options', 'test_types', 'test_type_ai_options', 'training_lineages', 'hyperparameters', 'datasets', 'model_trainings', 'models', 'evaluations', 'model_test_types', 'deployments', 'approvals', 'edge_servers', 'salesforce_events', 'wizard_sessions', 'audit_log']) {
      expect(names).toContain(t);
    }
  });

  it('running migrations again changes nothing', async () => {
    expect(await migrate(db)).toEqual([]);
  });

  it('ai_options: unique name, unique label name, name format', async () => {
    await m().insert(AiOption, { name: 'opt_a', labelName: 'A' });
    await expectCode(m().insert(AiOption, { name: 'opt_a' }), '23505');
    await expectCode(m().insert(AiOption, { name: 'opt_b', labelName: 'A' }), '23505');
    await expectCode(m().insert(AiOption, { name: 'Bad Name' }), '23514');
  });

  it('test_types: unique kit_id, status check; links unique per pair and cascade with the kit', async () => {
    const kit = await m().save(TestType, m().create(TestType, { kitId: 'K1', kitName: 'Kit one' }));
    await expectCode(m().insert(TestType, { kitId: 'K1', kitName: 'dup' }), '23505');
    await expectCode(m().insert(TestType, { kitId: 'K2', kitName: 'x', status: 'gone' as never }), '23514');
    const opt = await m().findOneByOrFail(AiOption, { name: 'opt_a' });
    await m().insert(TestTypeAiOption, { testTypeId: kit.id, aiOptionUid: opt.uid });
    await expectCode(m().insert(TestTypeAiOption, { testTypeId: kit.id, aiOptionUid: opt.uid }), '23505');
    await expectCode(m().insert(TestTypeAiOption, { testTypeId: kit.id, aiOptionUid: '00000000-0000-0000-0000-000000000000' }), '23503');
    await m().delete(TestType, { id: kit.id });
    expect(await m().countBy(TestTypeAiOption, { testTypeId: kit.id })).toBe(0);
  });

  it('hyperparameters: one row per fingerprint, immutable', async () => {
    const a = await getOrCreateHyperparameters(m(), { epochs: 3, batchSize: 8, learningRate: 0.01, imageSize: 32 });
    const b = await getOrCreateHyperparameters(m(), { imageSize: 32, learningRate: 0.01, batchSize: 8, epochs: 3 });
    expect(b.uid).toBe(a.uid);
    await expectCode(m().update(Hyperparameters, { uid: a.uid }, { params: { epochs: 4 } }), '23001');
  });

  it('models: version unique per lineage, approved needs an approver, rejected needs a reason', async () => {
    const { option } = await seeded(m());
    const { lineage, model } = await makeModel(m(), [option('red_light').uid]);
    expect(model.modelVersion).toBe(1);
    await expectCode(m().insert(Model, { lineageId: lineage.id, modelVersion: 1, modelName: 'other', labels: ['x'] }), '23505');
    await expectCode(m().update(Model, { id: model.id }, { status: 'approved' }), '23514');
    await expectCode(m().update(Model, { id: model.id }, { status: 'rejected' }), '23514');
    await expectCode(m().insert(Model, { lineageId: lineage.id, modelVersion: 9, modelName: 'empty', labels: [] }), '23514');
  });

  it('models: task is detect or classify (classify by default), the runtime descriptor matches it', async () => {
    const { option } = await seeded(m());
    const { lineage, model } = await makeModel(m(), [option('red_light').uid], 'tasks');
    const stored = await m().findOneByOrFail(Model, { id: model.id });
    expect(stored.task).toBe('classify');
    expect(stored.runtime).toEqual(classifyRuntime({ labels: ['a', 'b'], inputShape: null }));
    const runtime = detectRuntime({ inputSize: { height: 320, width: 256 }, classNames: ['red_light', 'green_light'], candidates: 1680 });
    const det = await createModelVersion(m(), { lineageId: lineage.id, trainingUid: null, labels: ['red_light', 'green_light'], task: 'detect', runtime }, systemActor);
    const back = await m().findOneByOrFail(Model, { id: det.id });
    expect(back.task).toBe('detect');
    expect(back.runtime).toEqual(runtime);
    expect(back.runtime).toMatchObject({ input: { shape: [1, 3, 320, 256] }, preprocess: { padValue: 114, scale: 1 / 255 }, postprocess: { confThreshold: 0.25, iouThreshold: 0.7 } });
    await expectCode(m().update(Model, { id: det.id }, { task: 'segment' as never }), '23514');
    await expectCode(m().query(`UPDATE models SET task = NULL WHERE id = $1`, [det.id]), '23502');
    // A descriptor for the other task is refused by the database, not only by the service.
    await expectCode(m().update(Model, { id: det.id }, { task: 'classify' }), '23514');
    await expect(createModelVersion(m(), { lineageId: lineage.id, trainingUid: null, labels: ['x'], task: 'detect' }, systemActor)).rejects.toThrow(/runtime descriptor/);
  });

  it('model_test_types: at most one active model per kit option (partial unique index)', async () => {
    const { option, kit } = await seeded(m());
    const red = option('red_light').uid;
    const { model: m1 } = await makeModel(m(), [red, option('green_light').uid], 'lin_a');
    const { model: m2 } = await makeModel(m(), [red, option('green_light').uid], 'lin_a');
    await m().insert(ModelTestType, { modelId: m1.id, testTypeId: kit('4567').id, aiOptionUid: red, isActive: true });
    await m().insert(ModelTestType, { modelId: m2.id, testTypeId: kit('4567').id, aiOptionUid: red, isActive: false });
    await expectCode(m().update(ModelTestType, { modelId: m2.id }, { isActive: true }), '23505');
    // Inactive history rows are unlimited; another kit may run the other model.
    await m().insert(ModelTestType, { modelId: m2.id, testTypeId: kit('589').id, aiOptionUid: red, isActive: true });
  });

  it('approvals: exactly one decision per model', async () => {
    const { option } = await seeded(m());
    const { model } = await makeModel(m(), [option('stop_sign').uid], 'signs');
    await m().insert(Approval, { modelId: model.id, kind: 'decision', decision: 'approved', actor: 'U1' });
    await expectCode(m().insert(Approval, { modelId: model.id, kind: 'decision', decision: 'rejected', actor: 'U2' }), '23505');
    await m().insert(Approval, { modelId: model.id, kind: 'deploy', decision: 'confirmed', actor: 'U2' });
    await expectCode(m().insert(Approval, { modelId: model.id, kind: 'deploy', decision: 'approved', actor: 'U2' }), '23514');
  });

  it('trainings, datasets, evaluations, deployments, edges: checks and foreign keys', async () => {
    const { option } = await seeded(m());
    const { lineage, model } = await makeModel(m(), [option('yield').uid], 'yields');
    const hp = await getOrCreateHyperparameters(m(), { epochs: 1, batchSize: 1, learningRate: 0.1, imageSize: 16 });
    await expectCode(m().insert(Dataset, { name: 'Bad Name!', source: 'url', sourceUri: 'https://x' }), '23514');
    await expectCode(m().insert(Dataset, { name: 'ds1', source: 'url', sourceUri: 'https://x', status: 'valid' }), '23514');
    const base = { lineageId: lineage.id, datasetName: 'ds', hyperparametersUid: hp.uid, totalEpochs: 1, requestedBy: 'U1' };
    await expectCode(m().insert(ModelTraining, { ...base, mode: 'new_version' }), '23514');
    await expectCode(m().insert(ModelTraining, { ...base, mode: 'new', status: 'trained' }), '23514');
    await expectCode(m().insert(ModelTraining, { ...base, mode: 'new', progress: 2 }), '23514');
    await m().insert(ModelTraining, { ...base, mode: 'new' });
    await expectCode(m().insert(Evaluation, { modelId: model.id, split: 'holdout' as never }), '23514');
    await m().insert(Evaluation, { modelId: model.id });
    await expectCode(m().insert(EdgeServer, { name: 'edge 1', tokenHash: 'a'.repeat(64) }), '23514');
    const edge = await m().save(EdgeServer, m().create(EdgeServer, { name: 'edge-1', tokenHash: 'a'.repeat(64) }));
    await expectCode(m().insert(EdgeServer, { name: 'edge-2', tokenHash: 'a'.repeat(64) }), '23505');
    await expectCode(m().insert(Deployment, { modelId: model.id, target: 'edge-1', edgeServerId: edge.id, requestedBy: 'U1', status: 'done' as never }), '23514');
    await m().insert(Deployment, { modelId: model.id, target: 'edge-1', edgeServerId: edge.id, requestedBy: 'U1' });
  });

  it('salesforce_events, wizard sessions and slack deliveries dedupe by key', async () => {
    await m().insert(SalesforceEvent, { eventKey: 'om:04l1', source: 'outbound', payload: {} });
    await expectCode(m().insert(SalesforceEvent, { eventKey: 'om:04l1', source: 'outbound', payload: {} }), '23505');
    await expectCode(m().insert(WizardSession, { userId: 'U1', step: 'nowhere' as never, expiresAt: new Date() }), '23514');
    await m().insert(SlackDelivery, { deliveryKey: 'ev:1', kind: 'event' });
    await expectCode(m().insert(SlackDelivery, { deliveryKey: 'ev:1', kind: 'event' }), '23505');
  });

  it('audit_log is append-only', async () => {
    await m().insert(AuditLogEntry, { actorType: 'system', action: 'test.entry' });
    await expectCode(m().update(AuditLogEntry, { action: 'test.entry' }, { action: 'changed' }), '23001');
    await expectCode(m().delete(AuditLogEntry, { action: 'test.entry' }), '23001');
    await expectCode(m().insert(AuditLogEntry, { actorType: 'robot' as never, action: 'x' }), '23514');
  });
});
