// `assay model import --file F.onnx --kit KIT [--kit ...] --dataset URL|FILE [--lineage KEY] [--name NAME]`:
// a detector trained elsewhere (Ultralytics `yolo export format=onnx`) becomes the next version of
// a lineage; a worker evaluates it on the dataset and the approval card follows, as for a model
// trained here. A file or dataset that does not fit is refused with one line, nothing created.
import os from 'node:os';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/index.js';
import { DomainError, formatMegabytes } from '../../domain/index.js';
import { CliUsageError, type CliCommand } from './types.js';
import type { Actor } from '../../services/audit.js';

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

const fail = (message: string): number => {
  process.stderr.write(`assay: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  return 1;
};

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
  const config = loadConfig();
  const maxModelBytes = config.fetch.maxBytes;

  // The file is read (and its size checked) before anything is opened.
  let bytes: Buffer;
  try {
    const size = (await stat(values.file)).size;
    if (size > maxModelBytes) return fail(`The model file is ${formatMegabytes(size)}; the limit is ${formatMegabytes(maxModelBytes)} (DATASET_MAX_BYTES)`);
    bytes = await readFile(values.file);
  } catch (e) {
    return fail(`cannot read ${values.file}: ${(e as Error).message}`);
  }
  const datasetArg = values.dataset;
  let dataset;
  if (/^https?:\/\//i.test(datasetArg)) dataset = { kind: 'url' as const, url: datasetArg };
  else {
    const { readLocalCocoDocument, LocalDatasetError } = await import('../../datasets/local-dataset.js');
    try {
      const doc = await readLocalCocoDocument(datasetArg);
      dataset = { kind: 'document' as const, uri: doc.uri, bytes: doc.bytes };
    } catch (e) {
      if (e instanceof LocalDatasetError) return fail(e.message);
      throw e;
    }
  }

  // The database, job queue and ML readers load only when this command runs.
  const [{ openContext, closeContext }, { createLogger }] = await Promise.all([import('../../app/bootstrap.js'), import('../../app/logger.js')]);
  const ctx = await openContext(config, { logger: createLogger(process.env.LOG_LEVEL ?? 'warn') });
  try {
    const actor: Actor = { type: 'cli', id: os.userInfo().username };
    const r = await ctx.services.imports.importModel(
      {
        file: { bytes, name: path.basename(values.file) },
        kitIds: values.kit,
        dataset,
        lineage: values.lineage,
        lineageName: values.name,
        datasetName: values['dataset-name'],
        requestedBy: `cli:${actor.id ?? 'unknown'}`,
      },
      actor,
    );
    const split = r.dataset.splitCounts as Record<string, number>;
    process.stdout.write(
      `Imported ${path.basename(values.file)} as ${r.model.modelName} (version ${r.model.modelVersion} of lineage ${r.lineage.name}, training id ${r.lineage.trainingId}).\n` +
        `  detector: ${r.detector.names.length} classes (${r.detector.names.join(', ')}), input ${r.detector.inputSize.height}x${r.detector.inputSize.width}, sha256 ${r.model.artifactSha256}\n` +
        `  serves: ${r.options.map((o) => o.name).join(', ')}\n` +
        `  dataset ${r.dataset.name}: ${split.test ?? 0} test image(s)\n` +
        (r.warnings.length ? r.warnings.map((w) => `  warning: ${w}\n`).join('') : '') +
        `Evaluation queued (model ${r.model.id}); a worker (assay start) runs it, then the model waits for approval.\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof DomainError) return fail(e.message);
    throw e;
  } finally {
    await closeContext(ctx);
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
