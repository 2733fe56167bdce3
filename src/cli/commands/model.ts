// `assay model import --file F.onnx --kit KIT [--kit ...] --dataset URL|FILE [--lineage KEY] [--name NAME]`:
// a detector trained elsewhere (Ultralytics `yolo export format=onnx`) becomes the next version of
// a lineage; a worker evaluates it on the dataset and the approval card follows, as for a model
// trained here. A file or dataset that does not fit is refused with one line, nothing created.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/index.js';
import { adminOperation, describeRequestProblem, type ModelImportOperation } from '../../admin/protocol.js';
import { executeModelImport } from '../../admin/model-import.js';
import { print, viaServer } from './admin.js';
import { CliUsageError, type CliCommand } from './types.js';

const importUsage = 'assay model import --file MODEL.onnx --kit KIT [--kit KIT ...] --dataset URL|COCO.json [--lineage TRAINING-ID|NAME] [--name LINEAGE-NAME] [--dataset-name NAME]';
const usage = 'assay model import --file MODEL.onnx --kit KIT --dataset URL|COCO.json [...]';

const help = `Usage: ${importUsage}

Imports an Ultralytics-layout detector (yolo export format=onnx: input [1,3,H,W] float32, output
[1,4+nc,N], metadata task=detect and names) as the next version of a lineage, and queues its
evaluation on the dataset; a worker (assay start) evaluates it and posts the approval card.

  --file FILE          the .onnx file
  --kit KIT            a kit (Salesforce kit id, e.g. 4567, or its uuid); repeat for several
  --dataset URL|FILE   a COCO dataset: an https:// URL, or a local file with images beside it
                       (images with no "split" are all test images)
  --lineage KEY        add to this existing lineage (training id, as in model names, or name);
                       default: the lineage of the kits' options labelled with the model's classes
  --name NAME          name of a new lineage (default: from its options)
  --dataset-name NAME  name the dataset row (default: import-<file>-<random>)
`;

async function modelImport(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        file: { type: 'string' },
        kit: { type: 'string', multiple: true },
        dataset: { type: 'string' },
        lineage: { type: 'string' },
        name: { type: 'string' },
        'dataset-name': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new CliUsageError(`${(e as Error).message}\nusage: ${importUsage}`);
  }
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (!values.file || !values.kit?.length || !values.dataset) throw new CliUsageError(`--file, --kit and --dataset are required\nusage: ${importUsage}`);
  const parsed = adminOperation.safeParse({
    op: 'model.import',
    file: path.resolve(values.file),
    kits: values.kit,
    dataset: /^https?:\/\//i.test(values.dataset) ? values.dataset : path.resolve(values.dataset),
    lineage: values.lineage,
    lineageName: values.name,
    datasetName: values['dataset-name'],
  });
  if (!parsed.success) throw new CliUsageError(`${describeRequestProblem(parsed.error)}\nusage: ${importUsage}`);
  const op = parsed.data as ModelImportOperation;
  const config = loadConfig();

  // Beside `assay start` on the embedded database, the server (its only owner) imports.
  if (!config.database.url) {
    const code = await viaServer(op, config.dataDir);
    if (code !== null) return code;
  }
  // Otherwise here: the database, job queue and ML readers open only once the files passed.
  let ctx: Awaited<ReturnType<typeof import('../../app/bootstrap.js').openContext>> | undefined;
  const [{ openContext, closeContext }, { createLogger }] = await Promise.all([import('../../app/bootstrap.js'), import('../../app/logger.js')]);
  try {
    const r = await executeModelImport(
      {
        maxModelBytes: config.fetch.maxBytes,
        async importModel(request, actor) {
          ctx = await openContext(config, { logger: createLogger(process.env.LOG_LEVEL ?? 'warn') });
          return ctx.services.imports.importModel(request, actor);
        },
      },
      op,
      { type: 'cli', id: os.userInfo().username },
    );
    return print(r);
  } finally {
    if (ctx) await closeContext(ctx);
  }
}

export const modelCommand: CliCommand = {
  name: 'model',
  summary: 'import a detector trained elsewhere (Ultralytics ONNX) as a new model version, evaluated and approved like one trained here',
  usage,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === 'import') return modelImport(rest);
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      process.stdout.write(help);
      return 0;
    }
    throw new CliUsageError(`usage: ${importUsage}`);
  },
};
