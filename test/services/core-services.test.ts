// Services against a real database: versions under concurrency, atomic activation and
// rollback, guarded transitions with audit, idempotent seed, training creation.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AiOption, AuditLogEntry, Dataset, Hyperparameters, Model, ModelTestType, ModelTraining } from '../../src/db/entities/index.js';
import { IllegalTransitionError, ValidationError } from '../../src/domain/index.js';
import { activateModel } from '../../src/services/activation-service.js';
import { slackUser, systemActor } from '../../src/services/audit.js';
import { kitsWithSelectableOptions, selectableOptionsForKits, setLabelName } from '../../src/services/catalog-service.js';
import { deleteUnusedHyperparameters, getOrCreateHyperparameters } from '../../src/services/hyperparameter-service.js';
import { findOrCreateLineage } from '../../src/services/lineage-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { seedCatalog } from '../../src/services/seed-service.js';
import { createTraining, requestCancel } from '../../src/services/training-service.js';
import { transition } from '../../src/services/transitions.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { seeded } from '../helpers/factories.js';

let db: TestDatabase;
const m = () => db.dataSource.manager;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db.close());

describe('seed', () => {
  it('loads the AI options only; the demo kits only when asked for; a second run changes nothing', async () => {
    const first = await seedCatalog(m(), systemActor);
    expect(first).toEqual({ optionsAdded: 9, kitsAdded: 0, linksAdded: 0 });
    expect(await m().query('SELECT count(*)::int AS n FROM test_types')).toEqual([{ n: 0 }]);
    const demo = await seedCatalog(m(), systemActor, { demoKits: true });
    expect(demo).toEqual({ optionsAdded: 0, kitsAdded: 6, linksAdded: 21 });
    const before = await m().query('SELECT count(*)::int AS n FROM audit_log');
    expect(await seedCatalog(m(), systemActor, { demoKits: true })).toEqual({ optionsAdded: 0, kitsAdded: 0, linksAdded: 0 });
    expect(await m().query('SELECT count(*)::int AS n FROM audit_log')).toEqual(before);
    const proper = await m().findOneByOrFail(AiOption, { name: 'proper_lighting' });
    expect(proper.selectable).toBe(false);
  });
});

describe('catalog', () => {
  it('lists only kits with selectable options, and never non-selectable options', async () => {
    const { kits } = await kitsWithSelectableOptions(m());
    expect(kits.map((k) => k.kitId)).toEqual(expect.arrayContaining(['4567', '589', '678']));
    expect(kits.map((k) => k.kitId)).not.toContain('3001'); // only proper_lighting
    const { kit } = await seeded(m());
    const options = await selectableOptionsForKits(m(), [kit('4567').id, kit('589').id]);
    expect(options.map((o) => o.name).sort()).toEqual(['green_light', 'red_light', 'yellow_light']);
    expect(options.find((o) => o.name === 'red_light')!.kits.map((k) => k.kitName).sort()).toEqual(['PR urine', 'PR urine kit']);
    expect((await kitsWithSelectableOptions(m(), 'dna')).kits.map((k) => k.kitId)).toEqual(['678']);
  });

  it('label names are saved for everyone and must be unique', async () => {
    const { option } = await seeded(m());
    await setLabelName(m(), option('yellow_light').uid, 'amber', slackUser('U1'));
    expect((await m().findOneByOrFail(AiOption, { name: 'yellow_light' })).labelName).toBe('amber');
    await expect(setLabelName(m(), option('speed_limit').uid, 'amber', slackUser('U1'))).rejects.toThrow(/already the label name of yellow_light/);
    await expect(setLabelName(m(), option('speed_limit').uid, '  ', slackUser('U1'))).rejects.toThrow(ValidationError);
  });
});

describe('model versions', () => {
  it('two trainings finishing at the same moment get distinct, consecutive versions', async () => {
    const { option } = await seeded(m());
    const lineage = await findOrCreateLineage(m(), [option('no_entry').uid], 'race');
    const made = await Promise.all(
      Array.from({ length: 8 }, () => db.dataSource.transaction((tx) => createModelVersion(tx, { lineageId: lineage.id, trainingUid: null, labels: ['no_entry'] }, systemActor))),
    );
    expect(made.map((x) => x.modelVersion).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(made[0]!.modelName).toMatch(new RegExp(`^race_${lineage.trainingId}_v\\d$`));
  });
});

describe('guarded transitions', () => {
  it('write the audit entry with the change, and refuse illegal ones without writing', async () => {
    const { option } = await seeded(m());
    const lineage = await findOrCreateLineage(m(), [option('pedestrian_crossing').uid], 'walk');
    const model = await createModelVersion(m(), { lineageId: lineage.id, trainingUid: null, labels: ['p'] }, systemActor);
    await db.dataSource.transaction((tx) => transition(tx, 'model', model.id, 'evaluating', systemActor));
    const audit = await m().findBy(AuditLogEntry, { entityId: model.id, action: 'model.evaluating' });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ from: 'draft', to: 'evaluating' });
    await expect(db.dataSource.transaction((tx) => transition(tx, 'model', model.id, 'deployed', systemActor))).rejects.toThrow(IllegalTransitionError);
    expect((await m().findOneByOrFail(Model, { id: model.id })).status).toBe('evaluating');
    expect(await m().countBy(AuditLogEntry, { entityId: model.id, action: 'model.deployed' })).toBe(0);
  });
});

describe('activation', () => {
  it('switches atomically and remembers the previous model', async () => {
    const { option, kit } = await seeded(m());
    const opts = [option('red_light').uid, option('green_light').uid];
    const lineage = await findOrCreateLineage(m(), opts, 'act');
    const v1 = await createModelVersion(m(), { lineageId: lineage.id, trainingUid: null, labels: ['r', 'g'] }, systemActor);
    const v2 = await createModelVersion(m(), { lineageId: lineage.id, trainingUid: null, labels: ['r', 'g'] }, systemActor);
    const pairs = opts.map((o) => ({ testTypeId: kit('678').id, aiOptionUid: o }));
    await db.dataSource.transaction((tx) => activateModel(tx, v1.id, pairs, slackUser('UAPP')));
    const steps = await db.dataSource.transaction((tx) => activateModel(tx, v2.id, pairs, slackUser('UAPP')));
    expect(steps.every((s) => s.previousModelId === v1.id)).toBe(true);
    const active = await m().findBy(ModelTestType, { testTypeId: kit('678').id, isActive: true });
    expect(active.map((a) => a.modelId)).toEqual([v2.id, v2.id]);
    const rows = await m().findBy(ModelTestType, { testTypeId: kit('678').id, modelId: v2.id });
    expect(rows.map((r) => r.previousModelId)).toEqual([v1.id, v1.id]); // what a rollback returns to
  });

  it('concurrent activations of two models for one kit option leave exactly one active', async () => {
    const { option, kit } = await seeded(m());
    const o = option('stop_sign').uid;
    const lineage = await findOrCreateLineage(m(), [o], 'conc');
    const a = await createModelVersion(m(), { lineageId: lineage.id, trainingUid: null, labels: ['s'] }, systemActor);
    const b = await createModelVersion(m(), { lineageId: lineage.id, trainingUid: null, labels: ['s'] }, systemActor);
    const pair = [{ testTypeId: kit('2001').id, aiOptionUid: o }];
    const results = await Promise.allSettled([a, b, a, b].map((x) => db.dataSource.transaction((tx) => activateModel(tx, x.id, pair, systemActor))));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(0);
    expect(await m().countBy(ModelTestType, { testTypeId: kit('2001').id, aiOptionUid: o, isActive: true })).toBe(1);
  });
});

describe('hyperparameters clean-up', () => {
  it('deletes only rows nothing references', async () => {
    const used = await getOrCreateHyperparameters(m(), { epochs: 2, batchSize: 4, learningRate: 0.01, imageSize: 16 });
    const unused = await getOrCreateHyperparameters(m(), { epochs: 7, batchSize: 4, learningRate: 0.01, imageSize: 16 });
    const { option } = await seeded(m());
    const lineage = await findOrCreateLineage(m(), [option('yield').uid], 'hp');
    await createModelVersion(m(), { lineageId: lineage.id, trainingUid: null, labels: ['y'], hyperparametersUid: used.uid }, systemActor);
    expect(await deleteUnusedHyperparameters(m())).toBeGreaterThanOrEqual(1);
    expect(await m().findOneBy(Hyperparameters, { uid: unused.uid })).toBeNull();
    expect(await m().findOneBy(Hyperparameters, { uid: used.uid })).not.toBeNull();
    await expect(getOrCreateHyperparameters(m(), { epochs: 0, batchSize: 4, learningRate: 0.01, imageSize: 16 })).rejects.toThrow(/epochs/);
  });
});

describe('training creation', () => {
  const hp = { epochs: 3, batchSize: 8, learningRate: 0.01, imageSize: 32 };
  it('creates lineage, dataset and training together; kits sharing options share the lineage', async () => {
    const { option, kit } = await seeded(m());
    await setLabelName(m(), option('yellow_light').uid, 'amber', slackUser('U1'));
    const req = { optionUids: [option('red_light').uid, option('yellow_light').uid], hyperparameters: hp, dataset: { source: 'url' as const, uri: 'https://data.example/ds.json' }, requestedBy: 'UREQ' };
    const one = await createTraining(m(), { ...req, kitIds: [kit('4567').id], datasetName: 'ds-one' }, slackUser('UREQ'));
    const two = await createTraining(m(), { ...req, kitIds: [kit('589').id, kit('678').id], datasetName: 'ds-two' }, slackUser('UREQ'));
    expect(two.lineageId).toBe(one.lineageId);
    expect(one.training!.status).toBe('queued');
    expect(one.training!.mode).toBe('new');
    expect(one.dataset!.status).toBe('pending');
  });

  it('bad input changes nothing', async () => {
    const { option, kit } = await seeded(m());
    const counts = async () => [await m().count(ModelTraining), await m().count(Dataset)];
    const before = await counts();
    const base = { kitIds: [kit('4567').id], hyperparameters: hp, dataset: { source: 'url' as const, uri: 'https://x/y.json' }, requestedBy: 'U1' };
    await expect(createTraining(m(), { ...base, optionUids: [option('proper_lighting').uid], datasetName: 'ok' }, systemActor)).rejects.toThrow(/not a selectable option/);
    await expect(createTraining(m(), { ...base, optionUids: [option('stop_sign').uid], datasetName: 'ok' }, systemActor)).rejects.toThrow(/not a selectable option/);
    await expect(createTraining(m(), { ...base, optionUids: [option('red_light').uid], datasetName: 'ds-one' }, systemActor)).rejects.toThrow(/already exists/);
    await expect(createTraining(m(), { ...base, optionUids: [option('red_light').uid], datasetName: 'fine', hyperparameters: { ...hp, epochs: -1 } }, systemActor)).rejects.toThrow(/epochs/);
    expect(await counts()).toEqual(before);
  });

  it('cancelling a queued training ends it; a finished one refuses', async () => {
    const { option, kit } = await seeded(m());
    await setLabelName(m(), option('speed_limit').uid, 'speed_limit', slackUser('U1'));
    const created = await createTraining(m(), { kitIds: [kit('2001').id], optionUids: [option('speed_limit').uid], hyperparameters: hp, dataset: { source: 'url', uri: 'https://x/z.json' }, datasetName: 'ds-cancel', requestedBy: 'U1' }, systemActor);
    const t = await requestCancel(m(), created.training!.uid, slackUser('U1'), { approvers: new Set(['U1']) });
    expect(t.status).toBe('cancelled');
    await expect(requestCancel(m(), created.training!.uid, slackUser('U1'), { approvers: new Set(['U1']) })).rejects.toThrow(/already cancelled/);
  });
});
