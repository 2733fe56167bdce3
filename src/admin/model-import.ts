// `assay model import` itself, run where the database is: in the CLI's own process, or in the
// running server over the admin channel (the embedded database has one owner). The files are
// named by absolute path; the server reads them as the same user (the socket is owner-only).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DomainError, formatMegabytes } from '../domain/index.js';
import type { Actor } from '../services/audit.js';
import type { ImportRequest, ImportResult } from '../services/model-import-service.js';
import type { AdminResponse, ModelImportOperation } from './protocol.js';

export interface ModelImportDeps {
  importModel(request: ImportRequest, actor: Actor): Promise<ImportResult>;
  /** The largest model file accepted (DATASET_MAX_BYTES). */
  maxModelBytes: number;
}

const fail = (message: string): AdminResponse => ({ code: 1, stdout: '', stderr: `assay: ${message.replace(/\s*\n\s*/g, ' ')}\n` });

export async function executeModelImport(deps: ModelImportDeps, op: ModelImportOperation, actor: Actor): Promise<AdminResponse> {
  // The file is read (and its size checked) before anything is opened.
  let bytes: Buffer;
  try {
    const size = (await stat(op.file)).size;
    if (size > deps.maxModelBytes) return fail(`The model file is ${formatMegabytes(size)}; the limit is ${formatMegabytes(deps.maxModelBytes)} (DATASET_MAX_BYTES)`);
    bytes = await readFile(op.file);
  } catch (e) {
    return fail(`cannot read ${op.file}: ${(e as Error).message}`);
  }
  let dataset: ImportRequest['dataset'];
  if (/^https?:\/\//i.test(op.dataset)) dataset = { kind: 'url', url: op.dataset };
  else {
    const { readLocalCocoDocument, LocalDatasetError } = await import('../datasets/local-dataset.js');
    try {
      const doc = await readLocalCocoDocument(op.dataset);
      dataset = { kind: 'document', uri: doc.uri, bytes: doc.bytes };
    } catch (e) {
      if (e instanceof LocalDatasetError) return fail(e.message);
      throw e;
    }
  }
  try {
    const r = await deps.importModel(
      { file: { bytes, name: path.basename(op.file) }, kitIds: op.kits, dataset, lineage: op.lineage, lineageName: op.lineageName, datasetName: op.datasetName, requestedBy: `cli:${actor.id ?? 'unknown'}` },
      actor,
    );
    const split = r.dataset.splitCounts as Record<string, number>;
    return {
      code: 0,
      stderr: '',
      stdout:
        `Imported ${path.basename(op.file)} as ${r.model.modelName} (version ${r.model.modelVersion} of lineage ${r.lineage.name}, training id ${r.lineage.trainingId}).\n` +
        `  detector: ${r.detector.names.length} classes (${r.detector.names.join(', ')}), input ${r.detector.inputSize.height}x${r.detector.inputSize.width}, sha256 ${r.model.artifactSha256}\n` +
        `  serves: ${r.options.map((o) => o.name).join(', ')}\n` +
        `  dataset ${r.dataset.name}: ${split.test ?? 0} test image(s)\n` +
        (r.warnings.length ? r.warnings.map((w) => `  warning: ${w}\n`).join('') : '') +
        `Evaluation queued (model ${r.model.id}); a worker (assay start) runs it, then the model waits for approval.\n`,
    };
  } catch (e) {
    if (e instanceof DomainError) return fail(e.message);
    throw e;
  }
}
