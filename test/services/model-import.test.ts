// Bring your own model: the import service on the real database and Agenda (no worker, so the
// evaluation job it enqueues stays visible in the queue). Good file → a new lineage version, an
// import training, a valid dataset and a queued evaluation; every bad input → a clear error
// naming the field and not one row more.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Dataset, Model, ModelTraining } from '../../src/db/entities/index.js';
import { readLocalCocoDocument } from '../../src/datasets/local-dataset.js';
import { ForbiddenError, ValidationError } from '../../src/domain/index.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { slackUser, systemActor } from '../../src/services/audit.js';
import { importModel, type ImportRequest } from '../../src/services/model-import-service.js';
import { readArtifact } from '../../src/storage/artifact-store.js';
import { seeded } from '../helpers/factories.js';
import { tinyDetectorOnnx } from '../helpers/detector-onnx.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';

const CASE = path.resolve('test/fixtures/detect-eval/case_public');

let assay: TestAssay;
let modelBytes: Buffer;
let datasetDoc: { bytes: Buffer; uri: string };
let kitId: string;

beforeAll(async () => {
  assay = await startTestAssay({}, { worker: false });
  const { kit } = await seeded(assay.ctx.db.dataSource.manager);
  kitId = kit('4567').id;
  modelBytes = await readFile(path.join(CASE, 'model.onnx'));
  datasetDoc = await readLocalCocoDocument(path.join(CASE, 'dataset/coco.json'));
}, 60_000);

afterAll(async () => {
  await assay?.stop();
});

const deps = (extra: { maxModelBytes?: number } = {}) => ({ config: assay.ctx.config, artifacts: assay.ctx.artifacts, queue: assay.ctx.queue, ...extra });

function request(over: Partial<ImportRequest> = {}): ImportRequest {
  return {
    file: { bytes: modelBytes, name: 'yolo11n-lights.onnx' },
    kitIds: [kitId],
    dataset: { kind: 'document', uri: datasetDoc.uri, bytes: datasetDoc.bytes },
    requestedBy: 'U1',
    ...over,
  };
}

async function counts() {
  const ds = assay.ctx.db.dataSource;
  const n = async (table: string) => Number((await ds.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);
  const { jobs } = await assay.ctx.agenda.queryJobs({ names: [JOBS.modelEvaluate] });
  return {
    models: await n('models'),
    trainings: await n('model_trainings'),
    datasets: await n('datasets'),
    lineages: await n('training_lineages'),
    audit: await n('audit_log'),
    evaluateJobs: jobs.length,
  };
}

async function refused(req: ImportRequest, field: string, message: RegExp, extra: { maxModelBytes?: number } = {}): Promise<void> {
  const before = await counts();
  const err = await importModel(assay.ctx.db.dataSource, deps(extra), req, slackUser('U1')).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).field).toBe(field);
  expect((err as Error).message).toMatch(message);
  expect(await counts()).toEqual(before);
}

describe('importing a detector', () => {
  it('a conforming file becomes the next version of the lineage with its evaluation queued', async () => {
    const ds = assay.ctx.db.dataSource;
    const before = await counts();
    const r = await importModel(ds, deps(), request({ lineageName: 'lights_detector' }), slackUser('U1'));
    expect(r.detector.names).toEqual(['red_light', 'yellow_light', 'green_light']);
    // The kit's labelled options that are classes of the model: red and green (yellow has no label name).
    expect(r.options.map((o) => o.name).sort()).toEqual(['green_light', 'red_light']);

    const model = await ds.manager.findOneByOrFail(Model, { id: r.model.id });
    expect(model).toMatchObject({ status: 'draft', modelVersion: 1, labels: ['red_light', 'yellow_light', 'green_light'], inputShape: [1, 3, 320, 320], artifactSize: String(modelBytes.length) });
    expect(model.modelName).toBe(`lights_detector_${r.lineage.trainingId}_v1`);
    expect(Buffer.compare(await readArtifact(assay.ctx.artifacts, model.s3ModelPath!), modelBytes)).toBe(0);

    const training = await ds.manager.findOneByOrFail(ModelTraining, { uid: model.trainingUid! });
    expect(training).toMatchObject({ trainer: 'import', status: 'trained', modelId: model.id, hyperparametersUid: null, testTypeIds: [kitId], requestedBy: 'U1', mode: 'new' });
    expect(training.trainingLogs).toContain('imported yolo11n-lights.onnx');

    const dataset = await ds.manager.findOneByOrFail(Dataset, { id: training.datasetId! });
    expect(dataset.status).toBe('valid');
    // Nothing was trained on these images here: without a "split" every image is a test image.
    expect(dataset.splitCounts).toEqual({ train: 0, val: 0, test: 76 });

    const { jobs } = await assay.ctx.agenda.queryJobs({ names: [JOBS.modelEvaluate], data: { modelId: model.id } });
    expect(jobs).toHaveLength(1);
    const after = await counts();
    expect(after).toMatchObject({ models: before.models + 1, trainings: before.trainings + 1, datasets: before.datasets + 1, lineages: before.lineages + 1, evaluateJobs: before.evaluateJobs + 1 });
    const audit = await ds.query(`SELECT action FROM audit_log WHERE entity_id = $1 ORDER BY id`, [model.id]);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['model.created', 'model.imported']);

    // Again, naming the lineage by its training id: version 2 of the same lineage.
    const again = await importModel(ds, deps(), request({ lineage: r.lineage.trainingId }), slackUser('U1'));
    expect(again.lineage.id).toBe(r.lineage.id);
    expect(again.model.modelVersion).toBe(2);
    expect((await ds.manager.findOneByOrFail(ModelTraining, { uid: again.training.uid })).mode).toBe('retrain');
  }, 60_000);

  it('refuses a truncated file', async () => {
    await refused(request({ file: { bytes: modelBytes.subarray(0, Math.floor(modelBytes.length / 2)), name: 'cut.onnx' } }), 'file', /not a readable ONNX file \(truncated or not ONNX\)/);
  });

  it('refuses a file whose output is not [1, 4+nc, N]', async () => {
    const wrong = Buffer.from(tinyDetectorOnnx({ names: ['red_light', 'green_light'], outputDims: [1, 7, 4] }));
    await refused(request({ file: { bytes: wrong, name: 'wrong.onnx' } }), 'file', /not an Ultralytics-layout detector.*output/);
  });

  it('refuses class names that are not categories of the dataset, naming them', async () => {
    const odd = Buffer.from(tinyDetectorOnnx({ names: ['red_light', 'green_light', 'blue_light', 'pink_light'] }));
    await refused(request({ file: { bytes: odd, name: 'odd.onnx' } }), 'dataset', /missing from the dataset's categories: blue_light, pink_light/);
  });

  it('refuses a file over the size limit before reading it', async () => {
    await refused(request(), 'file', /is 0\.7 MB; the limit is 0\.5 MB/, { maxModelBytes: 512 * 1024 });
  });

  it('refuses options the model has no class for, and kits that do not exist', async () => {
    const { option } = await seeded(assay.ctx.db.dataSource.manager);
    const redOnly = Buffer.from(tinyDetectorOnnx({ names: ['red_light'] }));
    await refused(request({ file: { bytes: redOnly, name: 'red.onnx' }, optionUids: [option('red_light').uid, option('green_light').uid] }), 'options', /no class for green_light \(label green_light\)/);
    await refused(request({ kitIds: ['00000000-0000-4000-8000-000000000000'] }), 'kits', /does not exist/);
    await refused(request({ kitIds: ['no-such-kit'] }), 'kits', /Kit no-such-kit does not exist/);
    await refused(request({ lineage: 'lnope' }), 'lineage', /No lineage "lnope"/);
  });

  it('refuses a dataset whose images do not decode', async () => {
    const doc = JSON.parse(datasetDoc.bytes.toString());
    doc.images[0].file_name = `data:;base64,${Buffer.from('not an image').toString('base64')}`;
    await refused(request({ dataset: { kind: 'document', uri: 'file:///tmp/x.json', bytes: Buffer.from(JSON.stringify(doc)) } }), 'dataset', /could not be decoded/);
  });

  it('passes the access gate first: a machine is refused, audited once, and nothing else is written', async () => {
    const before = await counts();
    const err = await importModel(assay.ctx.db.dataSource, deps(), request(), systemActor).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(await counts()).toEqual({ ...before, audit: before.audit + 1 });
    const [denied] = await assay.ctx.db.dataSource.query(`SELECT actor_type, action, entity_type, details FROM audit_log ORDER BY id DESC LIMIT 1`);
    expect(denied).toMatchObject({ actor_type: 'system', action: 'permission.denied', entity_type: 'model', details: { attempted: 'import' } });
  });
});
